"""The back-office page in a real browser: headless Chromium from Debian, driven by Playwright."""

import json
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Browser, Page, Route, expect, sync_playwright

from jobs_cli.stats import dollars
from jobs_local.process import StackProcess
from tests.e2e.conftest import OPERATORS, ROLES, Http

pytestmark = pytest.mark.e2e

CHROMIUM = "/usr/bin/chromium"
SCREENSHOT = Path(__file__).resolve().parents[2] / "test-artifacts" / "overview.png"
# Without the background-networking flags Chromium keeps trying to reach the internet, which is closed here.
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed: `apt-get install chromium` (.ci/run does it)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, local_stack: StackProcess) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    # A short refresh interval keeps the tests quick; the default is checked on its own.
    page.goto(f"{local_stack.url}/?refresh=1#token={local_stack.token}")
    expect(page.locator("#definitions li").first).to_be_visible()
    yield page
    context.close()
    assert not errors, errors


def definition(page: Page, key: str):
    return page.locator(f'li.definition[data-key="{key}"]')


def job_row(page: Page, label: str):
    return page.locator(
        "tr.job-row", has=page.locator(".job-label", has_text=re.compile(f"^{re.escape(label)}$"))
    ).first


def test_the_token_leaves_the_address_bar_and_stays_for_the_session(page: Page, local_stack: StackProcess):
    assert "token" not in page.url
    assert page.evaluate("sessionStorage.getItem('jobs.token')") == local_stack.token
    page.reload()
    expect(page.locator("#definitions li").first).to_be_visible()


def test_without_a_token_the_page_asks_for_one(browser: Browser, local_stack: StackProcess):
    context = browser.new_context()
    page = context.new_page()
    page.goto(local_stack.url + "/")
    dialog = page.locator("#token-dialog")
    expect(dialog).to_be_visible()
    page.fill("#token-input", "wrong")
    page.click("#token-form button[type=submit]")
    expect(page.locator("#token-why")).to_contain_text("refused")
    page.fill("#token-input", local_stack.token)
    page.click("#token-form button[type=submit]")
    expect(page.locator("#definitions li").first).to_be_visible()
    context.close()


def test_configured_jobs_show_label_desc_command_and_depending_jobs(page: Page):
    seed = definition(page, "import_solr")
    expect(seed.locator(".label")).to_have_text("Import from eZ")
    expect(seed.locator(".desc")).to_have_text("Starts import from a remote system")
    expect(seed.locator(".cmd")).to_have_text("silver:import tmp")
    expect(seed.locator(".then")).to_contain_text("Index econtent tmp cores")
    expect(seed.get_by_role("button", name="Start", exact=True)).to_be_visible()


def test_start_import_solr_and_follow_it_to_index_solr(page: Page):
    # The started job shows from the start's own answer: the list's refreshes are held meanwhile,
    # so a row that appears cannot have come from one, however slow the stack is.
    held: list[Route] = []
    holding = True

    def hold_list(route: Route) -> None:
        if holding and route.request.method == "GET" and urlparse(route.request.url).path.endswith("/jobs"):
            held.append(route)
        else:
            route.fallback()

    page.route("**/jobs?*", hold_list)
    # Once a refresh is held, any refresh sent before it is stale, and the page drops its answer.
    for _ in range(100):
        if held:
            break
        page.wait_for_timeout(100)
    assert held, "the page refreshes its list every second here"
    definition(page, "import_solr").get_by_role("button", name="Start", exact=True).click()
    row = job_row(page, "Import from eZ")
    expect(page.locator("tr.job-row").first.locator(".job-label")).to_have_text("Import from eZ", timeout=15_000)
    holding = False
    for route in held:
        route.continue_()
    expect(row.locator(".badge")).to_have_text("finished", timeout=30_000)
    expect(row.locator(".cell-exit")).to_have_text("0")

    child = job_row(page, "Index econtent tmp cores")
    expect(child).to_have_attribute("data-parent", row.get_attribute("data-id"))
    expect(child.locator(".tree")).to_be_visible()
    expect(child.locator(".badge")).to_have_text("finished", timeout=30_000)

    row.locator(".job-toggle").click()
    detail = page.locator(f'tr.detail[data-detail-of="{row.get_attribute("data-id")}"]')
    output = detail.locator("pre.output")
    expect(output).to_contain_text("importing 60 products from sample-erp into area 'tmp'")
    expect(output).to_contain_text("import finished: 59 imported, 1 skipped")
    expect(detail.locator('dd[data-field="state"]')).to_have_text("finished")
    expect(detail.get_by_role("button", name="Retry")).to_be_visible()


def test_a_running_job_shows_its_output_growing_then_cancel(page: Page):
    definition(page, "sleeper").get_by_role("button", name="Start", exact=True).click()
    row = job_row(page, "Sleeper")
    expect(row.locator(".badge")).to_have_text("running", timeout=15_000)
    row.locator(".job-toggle").click()
    detail = page.locator(f'tr.detail[data-detail-of="{row.get_attribute("data-id")}"]')
    output = detail.locator("pre.output")
    expect(output).to_contain_text("second 1/20", timeout=10_000)
    first_duration = row.locator(".cell-duration").inner_text()
    expect(output).to_contain_text("second 3/20", timeout=10_000)
    assert row.locator(".cell-duration").inner_text() != first_duration, "the duration counts while it runs"
    # The row stays expanded across refreshes (every second here).
    page.wait_for_timeout(2500)
    expect(detail).to_be_visible()
    expect(row.locator(".job-toggle")).to_have_attribute("aria-expanded", "true")
    detail.get_by_role("button", name="Cancel").click()
    expect(row.locator(".badge")).to_have_text("canceled", timeout=10_000)
    expect(output).to_contain_text("[job system] stopping the command: the job was canceled", timeout=15_000)
    assert "second 20/20" not in output.inner_text()


def test_a_failing_job_shows_failed_its_exit_code_and_canceled_dependents(page: Page):
    definition(page, "failing_check").get_by_role("button", name="Start", exact=True).click()
    row = job_row(page, "Failing check")
    expect(row.locator(".badge")).to_have_text("failed", timeout=30_000)
    expect(row.locator(".cell-exit")).to_have_text("7")
    child = job_row(page, "After the check")
    expect(child.locator(".badge")).to_have_text("canceled", timeout=15_000)
    expect(child.locator(".reason")).to_contain_text("not run: job")
    expect(child.locator(".reason")).to_contain_text("ended failed")
    grandchild = job_row(page, "Two levels down")
    expect(grandchild.locator(".badge")).to_have_text("canceled")
    assert int(grandchild.get_attribute("data-depth")) == 2


def test_output_is_text_never_html(page: Page):
    definition(page, "prints_html").get_by_role("button", name="Start", exact=True).click()
    row = job_row(page, "Prints HTML")
    expect(row.locator(".badge")).to_have_text("finished", timeout=30_000)
    row.locator(".job-toggle").click()
    output = page.locator(f'tr.detail[data-detail-of="{row.get_attribute("data-id")}"] pre.output')
    expect(output).to_contain_text("<script>window.pwned = 1</script>")
    expect(output).to_contain_text("<b>not bold</b>")
    assert output.locator("b, script").count() == 0
    assert page.evaluate("window.pwned") is None


def test_control_sequences_in_output_are_shown_as_text(page: Page, http: Http):
    """The sequences that would drive a terminal (the CLI escapes them there) are inert text here."""
    hostile = "\x1b]0;pwn\x07\x1b[31mred\x1b[0m\rover\x9b2J"
    _, job = http("POST", "/jobs", {"command": "demo:echo", "params": [hostile]})
    http.wait(job["id"])
    title = page.title()
    page.click("#refresh-now")
    page.locator(f'tr.job-row[data-id="{job["id"]}"] .job-toggle').click()
    output = page.locator(f'tr.detail[data-detail-of="{job["id"]}"] pre.output')
    expect(output).to_contain_text("red", timeout=30_000)
    text = output.evaluate("pre => pre.textContent")
    assert text.rstrip("\n") == hostile  # one line, whole, as the job printed it
    assert output.evaluate("pre => pre.children.length") == 0
    assert page.title() == title


def test_a_refresh_leaves_a_rows_toggle_as_it_was_so_that_a_click_during_it_counts(page: Page, http: Http):
    """A click whose press lands on a node that the refresh then replaces is lost (the browser
    fires no click): with the toggle's label drawn anew at each refresh, a test's click expanded no
    job in a fresh clone's make test."""
    _, job = http("POST", "/jobs", {"command": "demo:echo", "params": ["kept"]})
    http.wait(job["id"])
    page.click("#refresh-now")
    label = page.locator(f'tr.job-row[data-id="{job["id"]}"] .job-toggle .job-label')
    expect(label).to_have_text("demo:echo")
    label.evaluate("node => { node.dataset.seen = 'before the refresh'; }")
    updated = page.locator("#updated").text_content()
    expect(page.locator("#updated")).not_to_have_text(updated, timeout=5_000)  # a refresh drew the list
    expect(label).to_have_attribute("data-seen", "before the refresh")


def retry_on_page(page: Page, job_id: str):
    """Expands a finished job, presses Retry, and gives the row of the job that started."""
    row = page.locator(f'tr.job-row[data-id="{job_id}"]')
    expect(row.locator(".badge")).to_have_text("finished", timeout=10_000)
    row.locator(".job-toggle").click()
    page.locator(f'tr.detail[data-detail-of="{job_id}"]').get_by_role("button", name="Retry").click()
    newest = page.locator("tr.job-row").first
    expect(newest).not_to_have_attribute("data-id", job_id)
    return newest


def test_retry_starts_the_same_command_again(page: Page, http: Http):
    _, job = http("POST", "/jobs", {"command": "demo:echo", "params": ["retry me"]})
    http.wait(job["id"])
    newest = retry_on_page(page, job["id"])
    expect(newest.locator(".params")).to_have_text("retry me")
    expect(newest.locator(".badge")).to_have_text("finished", timeout=30_000)


def test_a_replay_with_an_edited_param_runs_it_and_both_jobs_name_each_other(page: Page, http: Http):
    _, job = http("POST", "/jobs", {"command": "demo:echo", "params": ["first", "de"]})
    http.wait(job["id"])
    row = page.locator(f'tr.job-row[data-id="{job["id"]}"]')
    expect(row.locator(".badge")).to_have_text("finished", timeout=10_000)
    row.locator(".job-toggle").click()
    detail = page.locator(f'tr.detail[data-detail-of="{job["id"]}"]')
    detail.get_by_text("Replay with edited params…").click()
    params = detail.locator("textarea.replay-params")
    expect(params).to_have_value("first\nde")
    params.fill("first\nfr")
    detail.get_by_role("button", name="Replay", exact=True).click()
    newest = page.locator("tr.job-row").first
    expect(newest).not_to_have_attribute("data-id", job["id"])
    expect(newest.locator(".params")).to_have_text("first fr")
    expect(newest.locator(".badge")).to_have_text("finished", timeout=30_000)
    replay_id = newest.get_attribute("data-id")
    newest.locator(".job-toggle").click()
    expect(page.locator(f'tr.detail[data-detail-of="{replay_id}"] [data-field="replay_of"]')).to_have_text(job["id"])
    expect(detail.locator('[data-field="replays"]')).to_have_text(replay_id, timeout=15_000)
    _, me = http("GET", "/me")
    page.get_by_role("tab", name="Audit log").click()
    record = page.locator('#audit-rows tr[data-action="replay"]', has_text=job["id"]).first
    expect(record.locator(".outcome")).to_have_text(f"started {replay_id}")
    expect(record.locator(".actor")).to_have_text(me["name"])


def test_the_audit_tab_shows_who_did_what_and_filters_by_action(page: Page, http: Http):
    _, me = http("GET", "/me")
    _, job = http("POST", "/jobs", {"command": "demo:sleep", "params": ["30"]})
    http.wait(job["id"], until=lambda j: j["state"] == "running")
    http("POST", f"/jobs/{job['id']}/cancel")
    page.get_by_role("tab", name="Audit log").click()
    expect(page.locator("#jobs-panel")).to_be_hidden()
    canceled = page.locator('#audit-rows tr[data-action="cancel"]', has_text=job["id"]).first
    expect(canceled.locator(".actor")).to_have_text(me["name"])
    expect(canceled.locator(".outcome")).to_have_text("canceled")
    expect(page.locator('#audit-rows tr[data-action="start"]', has_text=job["id"])).to_have_count(1)
    page.select_option("#audit-action", "cancel")
    expect(page.locator('#audit-rows tr:not([data-action="cancel"])')).to_have_count(0)
    page.get_by_role("tab", name="Jobs").click()
    expect(page.locator(f'tr.job-row[data-id="{job["id"]}"]')).to_be_visible()


def test_a_bulk_retry_of_the_last_days_failed_jobs_counts_first_and_shows_its_progress(page: Page, http: Http):
    _, me = http("GET", "/me")
    failed = [http("POST", "/jobs", {"command": "demo:fail", "tags": ["page-bulk"]})[1]["id"] for _ in range(3)]
    for job_id in failed:
        http.wait(job_id)
    page.select_option("#filter-state", "failed")
    page.fill("#filter-tag", "page-bulk")
    page.locator("#filter-tag").dispatch_event("change")
    expect(page.locator("tr.job-row")).to_have_count(3, timeout=20_000)  # once the stream's consumer indexed them
    page.get_by_role("button", name="Bulk action…").click()
    page.select_option("#bulk-action", "retry")
    page.select_option("#bulk-since", "24h")
    page.get_by_role("button", name="Count").click()
    expect(page.locator("#bulk-count-text")).to_have_text("3 job(s) match. The newest:")
    expect(page.locator("#bulk-sample li")).to_have_count(3)
    page.get_by_role("button", name="Retry 3 job(s)").click()
    expect(page.locator("#bulk-progress-text")).to_have_text("retry done: 3 done, 0 skipped of 3", timeout=30_000)
    for job_id in failed:
        assert len(http("GET", f"/jobs/{job_id}")[1]["replays"]) == 1
    page.get_by_role("tab", name="Audit log").click()
    record = page.locator('#audit-rows tr[data-action="bulk-action"]').first
    expect(record.locator(".outcome")).to_have_text("started: retry of 3 job(s)")
    expect(record.locator(".actor")).to_have_text(me["name"])


def test_ticked_rows_are_canceled_together(page: Page, http: Http):
    jobs = [http("POST", "/jobs", {"command": "demo:sleep", "params": ["30"]})[1]["id"] for _ in range(2)]
    page.click("#refresh-now")
    for job_id in jobs:
        page.locator(f'tr.job-row[data-id="{job_id}"] input.pick').check()
    page.get_by_role("button", name="Bulk action…").click()
    expect(page.locator("#bulk-scope")).to_have_text("the 2 ticked job(s)")
    page.select_option("#bulk-action", "cancel")
    page.get_by_role("button", name="Count").click()
    page.get_by_role("button", name="Cancel 2 job(s)").click()
    expect(page.locator("#bulk-progress-text")).to_have_text("cancel done: 2 done, 0 skipped of 2", timeout=30_000)
    for job_id in jobs:
        expect(page.locator(f'tr.job-row[data-id="{job_id}"] .badge')).to_have_text("canceled", timeout=15_000)


def test_filters_and_load_more(page: Page, http: Http):
    _, failed = http("POST", "/jobs", {"command": "demo:fail"})
    http.wait(failed["id"])
    page.select_option("#filter-state", "failed")
    expect(page.locator(f'tr.job-row[data-id="{failed["id"]}"]')).to_be_visible()
    # The failed job was listed before the filter too: wait for the filtered list.
    expect(page.locator('tr.job-row:not([data-state="failed"])')).to_have_count(0, timeout=10_000)
    page.select_option("#filter-state", "")
    page.fill("#filter-command", "demo:echo")
    page.locator("#filter-command").dispatch_event("change")
    expect(page.locator('tr.job-row[data-state="failed"]')).to_have_count(0)
    for i in range(55):
        http("POST", "/jobs", {"command": "demo:echo", "params": [f"many {i}"]})
    page.click("#refresh-now")
    expect(page.locator("#load-more")).to_be_visible(timeout=10_000)
    before = page.locator("tr.job-row").count()
    page.click("#load-more")
    expect(page.locator("tr.job-row")).not_to_have_count(before)
    assert page.locator("tr.job-row").count() > before


def test_a_search_by_tag_and_by_param_lists_only_the_jobs_that_have_them(page: Page, http: Http):
    _, tagged = http("POST", "/jobs", {"command": "demo:echo", "params": ["page-de"], "tags": ["store:page-de"]})
    _, other = http("POST", "/jobs", {"command": "demo:echo", "params": ["page-fr"], "tags": ["store:page-fr"]})
    page.fill("#filter-tag", "store:page-de")
    page.locator("#filter-tag").dispatch_event("change")
    row = page.locator(f'tr.job-row[data-id="{tagged["id"]}"]')
    expect(row).to_be_visible(timeout=20_000)  # once the stream's consumer has indexed it
    expect(row.locator(".job-facts")).to_contain_text("#store:page-de")
    expect(page.locator("tr.job-row")).to_have_count(1)
    page.fill("#filter-tag", "")
    page.fill("#filter-param", "page-fr")
    page.locator("#filter-param").dispatch_event("change")
    expect(page.locator(f'tr.job-row[data-id="{other["id"]}"]')).to_be_visible(timeout=20_000)
    expect(page.locator("tr.job-row")).to_have_count(1)


def test_auto_update_every_10_seconds_by_default_and_an_error_banner(browser: Browser, local_stack: StackProcess):
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{local_stack.url}/#token={local_stack.token}")
    expect(page.locator("#refresh-interval")).to_have_value("10")
    expect(page.locator("#updated")).to_have_text(re.compile(r"^updated \d\d:\d\d:\d\d$"))
    # The API goes away: the banner says so; it comes back: the banner goes.
    # Refreshing keeps the reader's place on the page. Every definition's statistics have arrived
    # first: their boxes keep their size (the test below), but the test must not hang on that alone.
    expect(page.locator("#definitions .stats[data-stats-of]").first).to_be_visible()
    expect(page.locator('#definitions .stats[aria-busy="true"]')).to_have_count(0)
    page.evaluate("window.scrollTo(0, 400)")
    scrolled = page.evaluate("window.scrollY")
    page.click("#refresh-now")
    page.wait_for_timeout(500)
    assert page.evaluate("window.scrollY") == scrolled
    page.route("**/jobs?*", lambda route: route.abort())
    page.click("#refresh-now")
    expect(page.locator("#error-banner")).to_be_visible()
    expect(page.locator("#error-banner")).to_contain_text("cannot reach the job API")
    page.unroute("**/jobs?*")
    page.click("#refresh-now")
    expect(page.locator("#error-banner")).to_be_hidden()
    context.close()


def test_the_definitions_keep_their_place_while_their_statistics_load(browser: Browser, local_stack: StackProcess):
    """The statistics arrive after the list: their space is kept, so nothing on the page moves."""

    def layout(hold_stats: bool) -> list[dict]:
        context = browser.new_context(viewport={"width": 1280, "height": 720})
        page = context.new_page()
        if hold_stats:
            page.route("**/stats?*", lambda route: route.abort())
        page.goto(f"{local_stack.url}/#token={local_stack.token}")
        expect(page.locator("#updated")).to_have_text(re.compile(r"^updated "))
        boxes = page.locator("#definitions .stats[data-stats-of]")
        busy = page.locator('#definitions .stats[aria-busy="true"]')
        if hold_stats:
            expect(busy).to_have_count(boxes.count())
            expect(boxes.first).to_contain_text("statistics loading")
        else:
            expect(busy).to_have_count(0)
        # Each definition's place and size, and where the jobs' panel starts (its height follows the jobs).
        boxes_at = page.evaluate(
            """() => [...[...document.querySelectorAll('#definitions li.definition')]
                .map(node => { const r = node.getBoundingClientRect(); return {top: r.top, height: r.height}; }),
                {top: document.querySelector('.panel.jobs').getBoundingClientRect().top}]"""
        )
        context.close()
        return boxes_at

    waiting, loaded = layout(hold_stats=True), layout(hold_stats=False)
    assert len(waiting) > 2
    assert waiting == loaded


def test_an_expanded_job_with_10000_lines_stays_readable(page: Page, http: Http):
    _, job = http("POST", "/jobs", {"command": "demo:lines", "params": ["10000"]})
    http.wait(job["id"])
    page.click("#refresh-now")
    page.locator(f'tr.job-row[data-id="{job["id"]}"] .job-toggle').click()
    detail = page.locator(f'tr.detail[data-detail-of="{job["id"]}"]')
    expect(detail.locator(".output-count")).to_have_text("10000 lines", timeout=30_000)
    expect(detail.locator(".output-status")).to_have_text("complete")
    output = detail.locator("pre.output")
    text = output.inner_text().splitlines()
    assert text[0] == "line 00001 of 10000" and text[-1] == "line 10000 of 10000" and len(text) == 10_000
    # It follows the end: the last line is in view.
    assert output.evaluate("pre => pre.scrollHeight - pre.scrollTop - pre.clientHeight") < 10


def test_the_output_keeps_its_place_when_the_user_scrolls_up(page: Page, http: Http):
    _, job = http("POST", "/jobs", {"command": "demo:lines", "params": ["400", "40"]})
    http.wait(job["id"], until=lambda j: j["state"] == "running")
    page.click("#refresh-now")
    page.locator(f'tr.job-row[data-id="{job["id"]}"] .job-toggle').click()
    output = page.locator(f'tr.detail[data-detail-of="{job["id"]}"] pre.output')
    expect(output).to_contain_text("line 00100 of 400", timeout=15_000)
    output.evaluate("pre => { pre.scrollTop = 0; }")
    expect(output).to_contain_text("line 00200 of 400", timeout=15_000)
    assert output.evaluate("pre => pre.scrollTop") == 0, "new lines pulled the reader away from what they read"
    output.evaluate("pre => { pre.scrollTop = pre.scrollHeight; }")
    expect(output).to_contain_text("line 00400 of 400", timeout=20_000)
    assert output.evaluate("pre => pre.scrollHeight - pre.scrollTop - pre.clientHeight") < 10


def test_screenshot_of_the_overview_with_an_expanded_job(browser: Browser, local_stack: StackProcess, http: Http):
    _, failed = http("POST", "/job-definitions/failing_check/start")
    http.wait(failed["id"])
    _, job = http("POST", "/job-definitions/import_solr/start")
    http.wait(job["dependents"][0])
    _, running = http("POST", "/job-definitions/sleeper/start")
    try:
        http.wait(running["id"], until=lambda j: j["state"] == "running")
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        page = context.new_page()
        page.goto(f"{local_stack.url}/#token={local_stack.token}")
        # What the picture must show: a failed, a finished and a running job, the expanded import's
        # output, the configured jobs, and no error.
        for shown, state in ((failed, "failed"), (job, "finished"), (running, "running")):
            expect(page.locator(f'tr.job-row[data-id="{shown["id"]}"]')).to_have_attribute("data-state", state)
        row = page.locator(f'tr.job-row[data-id="{job["id"]}"]')
        row.locator(".job-toggle").click()
        expect(page.locator(f'tr.detail[data-detail-of="{job["id"]}"] pre.output')).to_contain_text("import finished")
        expect(page.get_by_text("Import from eZ").first).to_be_visible()
        expect(page.locator("#error-banner")).to_be_hidden()
        SCREENSHOT.parent.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOT))
        context.close()
        # A PNG of the viewport: its IHDR chunk holds the width and the height.
        header = SCREENSHOT.read_bytes()[:24]
        assert header[:8] == b"\x89PNG\r\n\x1a\n"
        assert (int.from_bytes(header[16:20]), int.from_bytes(header[20:24])) == (1440, 900)
    finally:
        http("POST", f"/jobs/{running['id']}/cancel")


def test_retry_reruns_the_definition_with_its_label_and_depending_jobs(page: Page, http: Http):
    _, job = http("POST", "/job-definitions/import_solr/start")
    http.wait(job["dependents"][0])
    newest = retry_on_page(page, job["id"])
    expect(newest.locator(".job-label")).to_have_text("Import from eZ")
    expect(page.locator("tr.job-row").nth(1).locator(".job-label")).to_have_text("Index econtent tmp cores")


def test_start_later_shows_the_job_waiting_for_its_time(page: Page, http: Http):
    entry = definition(page, "sleeper")
    expect(entry.locator(".facts")).to_have_text("queue default")
    nightly = definition(page, "nightly_import").locator(".facts")
    expect(nightly).to_contain_text("queue serial · cron 0 2 * * * (Europe/Berlin) · next run ")
    entry.get_by_role("button", name="Start later…").click()
    entry.get_by_label("When to start Sleeper").fill("1 hour")
    entry.get_by_role("button", name="Start then").click()
    newest = page.locator("tr.job-row").first
    expect(newest.locator(".badge")).to_have_text("pending")
    expect(newest.locator(".job-facts")).to_contain_text("queue default · started by anna · run at ")
    expect(newest.locator(".waiting")).to_contain_text("delayed until ")
    status, canceled = http("POST", f"/jobs/{newest.get_attribute('data-id')}/cancel")
    assert status == 202 and canceled["run_at"]


def test_attempts_waiting_and_the_queue_filter(page: Page, http: Http):
    # The blocker runs until it is canceled: a timed one could end before the page shows the wait.
    blocker = http("POST", "/jobs", {"command": "demo:sleep", "params": ["60"], "queue": "serial"})[1]
    http.wait(blocker["id"], until=lambda j: j["state"] == "running")
    waiting = http("POST", "/jobs", {"command": "demo:echo", "params": ["queued"], "queue": "serial"})[1]
    waiting_row = page.locator(f'tr.job-row[data-id="{waiting["id"]}"]')
    expect(waiting_row.locator(".waiting")).to_have_text("queue serial is full (1 running)", timeout=10_000)
    page.locator("#filter-queue").select_option("serial")
    expect(page.locator("#filter-command")).to_be_disabled()
    expect(page.locator("tr.job-row").first).to_have_attribute("data-id", waiting["id"], timeout=10_000)
    expect(page.locator("tr.job-row .job-facts").filter(has_not_text="queue serial")).to_have_count(0)
    page.locator("#filter-queue").select_option("")
    assert http("POST", f"/jobs/{blocker['id']}/cancel")[0] == 202
    http.wait(waiting["id"], timeout=30)

    _, first = http("POST", "/job-definitions/flaky_then_index/start")
    second_id = http.wait(first["id"], until=lambda j: bool(j["retried_by"]))["retried_by"]
    http.wait(second_id)
    first_row = page.locator(f'tr.job-row[data-id="{first["id"]}"]')
    second_row = page.locator(f'tr.job-row[data-id="{second_id}"]')
    expect(first_row.locator(".attempt")).to_have_text("attempt 1 of 3", timeout=10_000)
    expect(first_row.locator(".badge")).to_have_text("failed")
    expect(second_row.locator(".attempt")).to_have_text("attempt 2 of 3")
    expect(second_row.locator(".badge")).to_have_text("finished")
    expect(second_row.locator(".job-facts")).to_contain_text("queue default · by retry · run at ")


def test_a_job_started_on_the_page_shows_who_started_and_who_canceled_it(
    page: Page, browser: Browser, local_stack: StackProcess
):
    definition(page, "sleeper").get_by_role("button", name="Start", exact=True).click()
    row = job_row(page, "Sleeper")
    expect(row.locator(".job-facts")).to_contain_text("started by anna", timeout=15_000)
    expect(row.locator(".badge")).to_have_text("running", timeout=15_000)
    job_id = row.get_attribute("data-id")

    # Ben, with his own token, cancels it.
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    bens = context.new_page()
    bens.goto(f"{local_stack.url}/?refresh=1#token={OPERATORS['ben']}")
    theirs = bens.locator(f'tr.job-row[data-id="{job_id}"]')
    theirs.locator(".job-toggle").click()
    detail = bens.locator(f'tr.detail[data-detail-of="{job_id}"]')
    expect(detail.locator('dd[data-field="started_by"]')).to_have_text("anna")
    detail.get_by_role("button", name="Cancel").click()
    expect(theirs.locator(".badge")).to_have_text("canceled", timeout=10_000)
    expect(detail.locator('dd[data-field="canceled_by"]')).to_have_text("ben", timeout=10_000)
    context.close()
    expect(row.locator(".job-facts")).to_contain_text("canceled by ben", timeout=15_000)


def test_progress_eta_peak_memory_and_the_runs_chart(browser: Browser, local_stack: StackProcess, http: Http):
    # History for the estimate: two runs of a command that prints no PROGRESS lines.
    for _ in range(2):
        _, done = http("POST", "/jobs", {"command": "demo:alloc", "params": ["50", "2"]})
        http.wait(done["id"])
    _, imported = http("POST", "/job-definitions/import_solr/start")
    for job_id in [imported["id"], *imported["dependents"]]:  # all of the definition's runs counted
        http.wait(job_id)
    _, estimated = http("POST", "/jobs", {"command": "demo:alloc", "params": ["50", "20"]})
    _, sleeper = http("POST", "/job-definitions/sleeper/start")
    http.wait(sleeper["id"], until=lambda j: (j["progress"] or {}).get("done", 0) >= 2)
    http.settled_cost("definition=import_solr")

    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.goto(f"{local_stack.url}/?refresh=1#token={local_stack.token}")
    sleeping = page.locator(f'tr.job-row[data-id="{sleeper["id"]}"]')
    expect(sleeping.locator(".progress-text")).to_contain_text(re.compile(r"^\d+/20 · ends ~\d\d:\d\d:\d\d$"))
    assert int(sleeping.locator('[role="progressbar"]').get_attribute("aria-valuenow")) > 0
    guess = page.locator(f'tr.job-row[data-id="{estimated["id"]}"]')
    # Its history says about 2 s, so by now it may be overdue; the page says which.
    expect(guess.locator(".progress-text")).to_contain_text(
        re.compile(r"estimated from its last runs · (ends ~\d\d:\d\d:\d\d|should have ended by now)")
    )
    expect(guess.locator(".progress.estimated")).to_be_visible()
    finished = page.locator(f'tr.job-row[data-id="{imported["id"]}"]')
    expect(finished.locator(".job-facts")).to_contain_text(re.compile(r"peak \d+ MB"))

    stats = definition(page, "import_solr").locator(".stats")
    line = re.compile(r"\d+ runs? · \d+ % succeed · p50 .* · peak \d+ MB")
    expect(stats.locator(".stats-line")).to_contain_text(line)
    expect(stats.locator(".stats-line")).to_have_attribute("title", line)  # the whole line, if it is cut
    cost = http("GET", "/stats", query="definition=import_solr")[1]["cost"]
    expect(stats.locator(".cost-line")).to_have_text(
        f"≈ {dollars(cost['per_run'])} a run · {dollars(cost['in_30_days'])} in 30 days"
    )
    bar = stats.locator(f'rect.bar[data-job="{imported["id"]}"]')
    expect(bar).to_have_class(re.compile("finished"))
    SCREENSHOT.parent.mkdir(exist_ok=True)
    stats.scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOT.with_name("insight.png")))
    bar.click()
    detail = page.locator(f'tr.detail[data-detail-of="{imported["id"]}"]')
    expect(detail.locator('dd[data-field="peak_memory_mb"]')).to_have_text(re.compile(r"^\d+(\.\d)?$"))
    # Every field the API gives, objects included, without their empty members (a Lambda run has no CPU units).
    expect(detail.locator('dd[data-field="usage"]')).to_contain_text("runner lambda")
    expect(detail.locator('dd[data-field="usage"]')).not_to_contain_text("null")
    context.close()
    for running in (sleeper, estimated):
        http("POST", f"/jobs/{running['id']}/cancel")
        http.wait(running["id"])


def test_a_second_start_of_a_unique_definition_says_already_running_and_links_the_job(page: Page, http: Http):
    start = definition(page, "one_at_a_time").get_by_role("button", name="Start", exact=True)
    start.click()
    row = job_row(page, "One at a time")
    expect(row).to_be_visible(timeout=15_000)
    job_id = row.get_attribute("data-id")
    http.started.append(job_id)
    start.click()
    already = definition(page, "one_at_a_time").locator(".already")
    expect(already).to_have_text(f"already running: job {job_id}")
    already.get_by_role("link").click()
    expect(page.locator(f'tr.detail[data-detail-of="{job_id}"]')).to_be_visible()
    assert http("POST", f"/jobs/{job_id}/cancel")[0] == 202


def test_a_queue_paused_on_the_page_holds_its_jobs_and_resumed_starts_them(page: Page, http: Http):
    item = page.locator('li.queue[data-queue="maintenance"]')
    expect(item.locator(".now")).to_have_text("no limit · starting its jobs")
    item.get_by_role("button", name="Pause queue maintenance").click()
    try:
        expect(item.locator(".now")).to_contain_text("no limit · paused by ")
        _, job = http("POST", "/jobs", {"command": "demo:echo", "params": ["held"], "queue": "maintenance"})
        row = page.locator(f'tr.job-row[data-id="{job["id"]}"]')
        expect(row.locator(".waiting")).to_contain_text("queue maintenance is paused (by ", timeout=10_000)
        expect(row.locator(".badge")).to_have_text("pending")
        item.get_by_role("button", name="Resume queue maintenance").click()
        expect(item.locator(".now")).to_have_text("no limit · starting its jobs")
        expect(row.locator(".badge")).to_have_text("finished", timeout=30_000)
    finally:
        http("POST", "/queues/maintenance/resume")


def test_stderr_lines_are_marked_with_a_label_that_a_copy_keeps(page: Page, http: Http):
    _, job = http("POST", "/jobs", {"command": "both-streams"})
    row = page.locator(f'tr.job-row[data-id="{job["id"]}"]')
    row.locator(".job-toggle").click()
    output = page.locator(f'tr.detail[data-detail-of="{job["id"]}"] pre.output')
    expect(output.locator(".stderr")).to_have_count(4, timeout=20_000)
    expect(output.locator(".stderr").first).to_have_text("[stderr] err 1")
    assert output.inner_text().splitlines()[:2] == ["out 1", "[stderr] err 1"]
    colour = output.locator(".stderr").first.evaluate("node => getComputedStyle(node).color")
    assert colour != output.evaluate("node => getComputedStyle(node).color")


def test_the_link_of_a_failed_jobs_event_opens_the_job_on_the_page(page: Page, http: Http, local_stack: StackProcess):
    events, sqs = local_stack.aws_client("events"), local_stack.aws_client("sqs")
    queue = sqs.create_queue(QueueName="e2e-job-events")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    pattern = {"detail-type": ["Job State Change"], "detail": {"state": ["failed"], "command": ["demo:fail"]}}
    rule = events.put_rule(Name="e2e-failed-jobs", EventPattern=json.dumps(pattern))["RuleArn"]
    sqs.set_queue_attributes(
        QueueUrl=queue,
        Attributes={
            "Policy": json.dumps({
                "Statement": [{
                    "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}, "Action": "sqs:SendMessage",
                    "Resource": queue_arn, "Condition": {"ArnEquals": {"aws:SourceArn": rule}},
                }]
            })
        },
    )  # fmt: skip
    events.put_targets(Rule="e2e-failed-jobs", Targets=[{"Id": "queue", "Arn": queue_arn}])
    _, job = http("POST", "/jobs", {"command": "demo:fail", "params": ["4"]})
    assert http.wait(job["id"])["state"] == "failed"
    messages = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=10).get("Messages", [])
    link = json.loads(messages[0]["Body"])["detail"]["link"]
    assert link == f"{local_stack.url}/#job-{job['id']}"
    page.goto(link.replace("/#", "/?refresh=1#"))
    detail = page.locator(f'tr.detail[data-detail-of="{job["id"]}"]')
    expect(detail.locator('dd[data-field="exit_code"]')).to_have_text("4")


def test_a_join_is_drawn_under_its_parent_naming_the_jobs_it_waits_for(page: Page, http: Http):
    rebuild = definition(page, "rebuild")
    expect(rebuild.locator(".then .after")).to_have_text(" after import_de, import_fr")
    rebuild.get_by_role("button", name="Start", exact=True).click()
    join = job_row(page, "Build the index")
    expect(join.locator(".after")).to_have_text("after import_de, import_fr", timeout=15_000)
    root = job_row(page, "Rebuild the catalogue")
    expect(join).to_have_attribute("data-parent", root.get_attribute("data-id"))
    expect(join.locator(".badge")).to_have_text("finished", timeout=60_000)


def test_a_runs_graph_shows_its_fan_in_and_its_states_as_they_change(page: Page, http: Http):
    body = {
        "command": "demo:echo", "label": "graph root",
        "depending_jobs": [
            {"key": "slow", "command": "demo:sleep", "params": ["4"], "label": "slow import"},
            {"key": "quick", "command": "demo:echo", "label": "quick import"},
            {"command": "demo:echo", "label": "graph join", "after": ["slow", "quick"]},
        ],
    }  # fmt: skip
    _, root = http("POST", "/jobs", body)
    page.click("#refresh-now")
    page.locator(f'tr.job-row[data-id="{root["id"]}"] .job-toggle').click()
    graph = page.locator(f'tr.detail[data-detail-of="{root["id"]}"] svg.run-graph')
    expect(graph.locator("g.node")).to_have_count(4, timeout=15_000)
    join = graph.locator("g.node", has_text="graph join")
    join_id = join.get_attribute("data-id")
    # Its parent's edge, and one dashed edge from each job it waits for besides.
    expect(graph.locator(f'path.edge[data-to="{join_id}"]')).to_have_count(3)
    expect(graph.locator(f'path.edge.after[data-to="{join_id}"]')).to_have_count(2)
    expect(join).to_have_attribute("data-state", "pending")  # the slow import runs for 4 s
    expect(join).to_have_attribute("data-state", "finished", timeout=30_000)
    expect(graph.locator('g.node[data-state="finished"]')).to_have_count(4)


@pytest.mark.parametrize("name", ["vera", "otto"])
def test_a_viewer_is_offered_no_start_and_an_operator_starts_a_job(browser: Browser, local_stack: StackProcess, name):
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    page.goto(f"{local_stack.url}/?refresh=1#token={OPERATORS[name]}")
    expect(page.locator("#me")).to_have_text(f"{name} ({ROLES[name]})")
    start = definition(page, "import_solr").get_by_role("button", name="Start", exact=True)
    if ROLES[name] == "viewer":
        expect(definition(page, "import_solr").locator(".label")).to_be_visible()
        expect(start).to_be_hidden()
        expect(page.locator('li.queue[data-queue="maintenance"] button')).to_be_hidden()
    else:
        start.click()
        row = page.locator("tr.job-row", has=page.locator(".job-facts", has_text="started by otto")).first
        expect(row.locator(".badge")).to_have_text("finished", timeout=30_000)
    context.close()
