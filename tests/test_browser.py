"""The search page in headless Chromium: search, tick facets, page, go back; also without JS."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).parent / "artifacts"


def wait_for(driver, condition, timeout=15):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(lambda d: condition(d))


def count_text(driver) -> int:
    text = driver.find_element("id", "count").text
    match = re.match(r"([\d,]+) stud", text)
    return int(match.group(1).replace(",", "")) if match else 0


def facet_count(driver, facet: str, value: str) -> int:
    box = driver.find_element("css selector", f"#facet-{facet} input[value='{value}']")
    return int(box.find_element("xpath", "./following-sibling::a").text)


def test_search_tick_two_facets_page_and_go_back(browser, sample_server):
    driver = browser
    driver.get(sample_server.url + "/")
    assert count_text(driver) == 300
    box = driver.find_element("id", "q")
    box.send_keys("diabetes")
    box.submit()
    wait_for(driver, lambda d: "q=diabetes" in d.current_url)
    total = count_text(driver)
    assert 0 < total < 300
    recruiting = facet_count(driver, "status", "RECRUITING")
    completed = facet_count(driver, "status", "COMPLETED")

    driver.find_element("css selector", "#facet-status input[value='RECRUITING']").click()
    wait_for(driver, lambda d: "status=RECRUITING" in d.current_url)
    assert count_text(driver) == recruiting
    # disjunctive: the other status still shows what it would add
    assert facet_count(driver, "status", "COMPLETED") == completed
    driver.find_element("css selector", "#facet-status input[value='COMPLETED']").click()
    wait_for(driver, lambda d: "status=COMPLETED" in d.current_url)
    assert count_text(driver) == recruiting + completed
    chips = [c.text for c in driver.find_elements("css selector", ".chip")]
    assert any("Recruiting" in c for c in chips) and any("Completed" in c for c in chips)

    first_page = [h.get_attribute("data-nct") for h in driver.find_elements("css selector", ".hit")]
    if recruiting + completed > 20:
        driver.find_element("css selector", "a[rel=next]").click()
        wait_for(driver, lambda d: "page=2" in d.current_url)
        second = [h.get_attribute("data-nct") for h in driver.find_elements("css selector", ".hit")]
        assert second and not set(second) & set(first_page)
        driver.back()
        wait_for(driver, lambda d: "page=2" not in d.current_url)
        again = [h.get_attribute("data-nct") for h in driver.find_elements("css selector", ".hit")]
        assert again == first_page

    ARTIFACTS.mkdir(exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / "results.png"))
    # results link out to the canonical page and to ClinicalTrials.gov
    link = driver.find_element("css selector", ".hit h3 a").get_attribute("href")
    assert link.startswith("https://parkinsonspathways.com/agent/trials/NCT")
    live = driver.find_element("id", "count").get_attribute("aria-live")
    assert live == "polite"


def test_removing_a_chip_and_clear_all(browser, sample_server):
    driver = browser
    driver.get(sample_server.url + "/search?q=asthma&status=RECRUITING&phase=PHASE2")
    before = count_text(driver)
    driver.find_element("css selector", "a.chip[aria-label*='Phase']").click()
    wait_for(driver, lambda d: "phase=" not in d.current_url)
    assert count_text(driver) >= before
    driver.find_element("css selector", "a.clear").click()
    wait_for(driver, lambda d: "status=" not in d.current_url)
    assert "q=asthma" in driver.current_url


def test_the_page_works_with_javascript_disabled(browser, sample_server):
    driver = browser
    driver.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
    try:
        driver.get(sample_server.url + "/search?q=cancer")
        total = count_text(driver)
        recruiting = facet_count(driver, "status", "RECRUITING")
        driver.find_element("css selector", "#facet-status input[value='RECRUITING']").click()
        assert "status=" not in driver.current_url  # nothing happens without JS...
        driver.find_element("css selector", "button.apply").click()  # ...until Apply
        wait_for(driver, lambda d: "status=RECRUITING" in d.current_url)
        assert count_text(driver) == recruiting <= total
        driver.find_element("css selector", "#sort option[value='-enrollment']").click()
        driver.find_element("css selector", "button.apply").click()
        wait_for(driver, lambda d: "sort=-enrollment" in d.current_url)
        driver.save_screenshot(str(ARTIFACTS / "no-js.png"))
    finally:
        driver.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": False})


def test_the_page_reads_on_a_phone(browser, sample_server):
    driver = browser
    driver.set_window_size(390, 844)
    try:
        driver.get(sample_server.url + "/search?q=heart")
        width = driver.execute_script("return document.documentElement.scrollWidth")
        assert width <= 400  # no sideways scrolling
        driver.save_screenshot(str(ARTIFACTS / "phone.png"))
    finally:
        driver.set_window_size(1280, 1600)


def suggestion_options(driver, listbox: str) -> list:
    wait_for(driver, lambda d: d.find_element("id", listbox).is_displayed())
    return driver.find_elements("css selector", f"#{listbox} [role=option]")


def test_the_search_box_suggests_values_and_the_keyboard_chooses_one(browser, sample_server):
    from selenium.webdriver.common.keys import Keys

    driver = browser
    driver.get(sample_server.url + "/search?status=RECRUITING")
    box = driver.find_element("id", "q")
    assert box.get_attribute("role") == "combobox"
    box.send_keys("ast")
    options = suggestion_options(driver, "q-suggestions")
    assert box.get_attribute("aria-expanded") == "true"
    first = options[0]
    assert first.get_attribute("data-value") == "Asthma"
    shown = int(re.search(r"([\d,]+) stud", first.text).group(1).replace(",", ""))
    box.send_keys(Keys.ARROW_DOWN)
    assert box.get_attribute("aria-activedescendant") == first.get_attribute("id")
    assert first.get_attribute("aria-selected") == "true"
    driver.save_screenshot(str(ARTIFACTS / "suggest.png"))
    box.send_keys(Keys.ENTER)
    wait_for(driver, lambda d: "condition=Asthma" in d.current_url)
    assert "status=RECRUITING" in driver.current_url and "q=" not in driver.current_url
    assert count_text(driver) == shown  # the count offered is the count one gets
    # Escape closes the list; the box then searches as typed
    driver.get(sample_server.url + "/search")
    box = driver.find_element("id", "q")
    box.send_keys("met")
    suggestion_options(driver, "q-suggestions")
    box.send_keys(Keys.ESCAPE)
    wait_for(driver, lambda d: not d.find_element("id", "q-suggestions").is_displayed())
    assert box.get_attribute("aria-expanded") == "false"


def test_a_long_facet_list_gets_a_find_box(browser, sample_server):
    from selenium.webdriver.common.keys import Keys

    driver = browser
    driver.get(sample_server.url + "/search?q=patients&facet_limit=3")
    find = driver.find_element("id", "find-condition")
    find.send_keys("dia")
    options = suggestion_options(driver, "find-condition-suggestions")
    value = options[0].get_attribute("data-value")
    assert "dia" in value.lower()
    find.send_keys(Keys.ARROW_DOWN, Keys.ENTER)
    wait_for(driver, lambda d: "condition=" in d.current_url)
    assert "q=patients" in driver.current_url  # the find box keeps the search
    chips = [c.text for c in driver.find_elements("css selector", ".chip")]
    assert any(value in c for c in chips)
    # a facet that lists everything has no find box
    assert not driver.find_elements("id", "find-sex")


def test_sorting_by_what_changed_marks_new_studies_and_offers_the_feed(browser, sample_server):
    from selenium.webdriver.support.ui import Select

    driver = browser
    driver.get(sample_server.url + "/search?q=asthma")
    assert not driver.find_elements("css selector", ".changes .badge")
    Select(driver.find_element("id", "sort")).select_by_value("changed")
    wait_for(driver, lambda d: "sort=changed" in d.current_url)
    badges = driver.find_elements("css selector", ".changes .badge")
    assert badges and all(b.text.startswith("New ") for b in badges)  # one build: all new
    feed = driver.find_element("id", "feed-link").get_attribute("href")
    assert feed.endswith("/search.atom?q=asthma")  # the feed orders itself
    alternate = driver.find_element("css selector", "link[type='application/atom+xml']")
    assert alternate.get_attribute("href") == feed
    # the since inputs filter, and their chip removes the filter
    since = driver.find_element("css selector", "input[name=changed_since]")
    since.send_keys("2000-01-01")
    since.submit()
    wait_for(driver, lambda d: "changed_since=2000-01-01" in d.current_url)
    chip = next(
        c for c in driver.find_elements("css selector", ".chip") if "Changed since" in c.text
    )
    assert "2000-01-01" in chip.text
    chip.click()
    wait_for(driver, lambda d: "changed_since" not in d.current_url)


PATIENT = (
    "A 9-year-old girl with asthma, using an inhaler twice a day. "
    "She denies smoking and has no history of diabetes."
)


def test_describing_a_patient_shows_what_was_read_and_why_each_study_is_listed(
    browser, sample_server
):
    driver = browser
    driver.get(sample_server.url + "/")
    driver.find_element("id", "q").send_keys("asthma")
    driver.find_element("id", "patient-toggle").click()  # the box becomes a text area
    box = driver.find_element("id", "q")
    assert box.tag_name == "textarea" and box.get_attribute("value") == "asthma"
    box.clear()
    box.send_keys(PATIENT)
    driver.find_element("css selector", ".searchbar button[type=submit]").click()
    wait_for(driver, lambda d: d.find_elements("id", "patient-reading"))
    reading = driver.find_element("id", "patient-reading").text
    assert "age 9" in reading and "female" in reading and "asthma" in reading.lower()
    assert "smoking" in reading  # denied, and said so
    assert driver.find_element("id", "q").get_attribute("value") == PATIENT  # kept to edit
    why = [w.text for w in driver.find_elements("css selector", ".hit .why")]
    assert why and "Matches: asthma" in why[0].replace("Asthma", "asthma")
    driver.save_screenshot(str(ARTIFACTS / "patient.png"))
    driver.find_element("id", "eligible-only").click()
    wait_for(driver, lambda d: "eligible_only=true" in d.current_url)
    assert not driver.find_elements("css selector", ".hit .why .excludes")


def test_describing_a_patient_works_without_javascript(browser, sample_server):
    driver = browser
    driver.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
    try:
        driver.get(sample_server.url + "/")
        driver.find_element("id", "patient-toggle").click()
        driver.find_element("id", "q").send_keys(PATIENT)
        driver.find_element("css selector", ".searchbar button[type=submit]").click()
        wait_for(driver, lambda d: d.find_elements("id", "patient-reading"))
        assert driver.find_element("id", "q").tag_name == "textarea"  # posted, shown again
        assert "age 9" in driver.find_element("id", "patient-reading").text
    finally:
        driver.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": False})


def test_searching_near_a_place_shows_distances_and_recruiting_sites(browser, sample_server):
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    driver = browser
    driver.get(sample_server.url + "/search?q=")
    everything = count_text(driver)
    near = driver.find_element("id", "near")
    near.send_keys("Boston, MA", Keys.ENTER)
    wait_for(driver, lambda d: "near=Boston" in d.current_url)
    assert "radius=50mi" in driver.current_url
    reading = driver.find_element("id", "near-reading").text
    assert "Near Boston, Massachusetts, United States · within 50 mi" in reading
    nearby = count_text(driver)
    assert 0 < nearby < everything
    sites = driver.find_elements("css selector", ".hit .site")
    assert sites and all("Boston" in site.text for site in sites)
    # "Recruiting sites only" and the site-status facet's box are one filter
    driver.find_element("id", "recruiting-sites").click()
    wait_for(driver, lambda d: "site_status=RECRUITING" in d.current_url)
    assert driver.find_element("css selector", "#facet-site_status input[value=RECRUITING]")
    assert driver.find_element("id", "recruiting-sites").is_selected()
    recruiting = count_text(driver)
    assert recruiting <= nearby
    assert all("Recruiting" in s.text for s in driver.find_elements("css selector", ".hit .site"))
    driver.find_element("css selector", "#facet-site_status input[value=RECRUITING]").click()
    wait_for(driver, lambda d: "site_status" not in d.current_url)
    assert not driver.find_element("id", "recruiting-sites").is_selected()
    # a wider radius asks again at once; the nearest come first when asked
    Select(driver.find_element("id", "radius")).select_by_value("500mi")
    wait_for(driver, lambda d: "radius=500mi" in d.current_url)
    assert count_text(driver) >= nearby
    Select(driver.find_element("id", "sort")).select_by_value("distance")
    wait_for(driver, lambda d: "sort=distance" in d.current_url)
    miles = [
        float(d.text.split()[0].lstrip("<"))
        for d in driver.find_elements("css selector", ".hit .site .distance")
    ]
    assert miles == sorted(miles)
    driver.save_screenshot(str(ARTIFACTS / "near.png"))
    # the chip removes the place and its radius
    driver.find_element("css selector", "a.chip[aria-label*='Near Boston']").click()
    wait_for(driver, lambda d: "near=" not in d.current_url)
    assert "radius=" not in driver.current_url


def test_an_ambiguous_place_offers_each_namesake(browser, sample_server):
    driver = browser
    driver.get(sample_server.url + "/search?q=&near=Portland")
    choices = driver.find_elements("css selector", "#place-choices a[href*='near=']")
    labels = [choice.text for choice in choices]
    assert labels[:2] == ["Portland, Oregon, United States", "Portland, Maine, United States"]
    choices[0].click()
    wait_for(driver, lambda d: d.find_elements("id", "near-reading"))
    assert "Portland, Oregon" in driver.find_element("id", "near-reading").text


def test_searching_near_a_place_works_without_javascript(browser, sample_server):
    driver = browser
    driver.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
    try:
        driver.get(sample_server.url + "/search?q=")
        driver.find_element("id", "near").send_keys("77030")  # a Houston ZIP code
        driver.find_element("id", "recruiting-sites").click()
        driver.find_element("css selector", "button.apply").click()
        wait_for(driver, lambda d: "near=77030" in d.current_url)
        assert "site_status=RECRUITING" in driver.current_url
        assert "(ZIP 77030)" in driver.find_element("id", "near-reading").text
        sites = driver.find_elements("css selector", ".hit .site")
        assert sites and all("Houston" in s.text and "Recruiting" in s.text for s in sites)
    finally:
        driver.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": False})


def test_the_near_box_completes_cities_and_searches_near_the_one_chosen(browser, sample_server):
    from selenium.webdriver.common.keys import Keys

    driver = browser
    driver.get(sample_server.url + "/search?q=&status=RECRUITING")
    near = driver.find_element("id", "near")
    near.send_keys("Hous")
    wait_for(driver, lambda d: d.find_elements("css selector", "#near-suggestions li"))
    first = driver.find_element("css selector", "#near-suggestions li .value").text
    assert first == "Houston, Texas"
    near.send_keys(Keys.ARROW_DOWN, Keys.ENTER)
    wait_for(driver, lambda d: "near=Houston" in d.current_url)
    assert "status=RECRUITING" in driver.current_url  # the other filters stay
    assert "Near Houston, Texas, United States" in driver.find_element("id", "near-reading").text
