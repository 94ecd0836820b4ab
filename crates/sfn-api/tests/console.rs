//! The console end to end: a real engine behind the real API, the page
//! served by `app`, and Debian's headless Chromium loading it, so what is
//! checked is the DOM a browser builds from the page's script and the API's
//! answers. Chromium is required: without it the test fails and says how
//! to install it, rather than passing without having looked at anything.

use serde_json::{json, Value};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use zoomvault_asl::Failure;
use zoomvault_engine::{Clock, Engine, EngineConfig, Handlers};
use zoomvault_sfn_api::{app, console, ApiConfig};

const CHROMIUM: &str = "/usr/bin/chromium";

/// Data from outside that must show as text: if the page ever inserted it
/// as markup, an `<img>` element would appear in the DOM.
const INJECTION: &str = "<img src=x onerror=\"document.title='pwned'\">";

/// Pass, Task with a Retry, Choice with an unreached default, a Parallel
/// whose failing branch is caught, and a Map.
fn definition() -> Value {
    json!({
        "Comment": "The console test's workflow",
        "StartAt": "Prepare",
        "States": {
            "Prepare": {"Type": "Pass", "Result": {"ready": true}, "ResultPath": "$.prepared", "Next": "Work"},
            "Work": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": "work", "Payload.$": "$"},
                "ResultSelector": {"worked.$": "$.Payload.worked"},
                "ResultPath": "$.work",
                "Retry": [{"ErrorEquals": ["Custom.Flaky"], "IntervalSeconds": 1, "MaxAttempts": 2}],
                "Next": "Route"
            },
            "Route": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.mode", "StringEquals": "fan-out", "Next": "FanOut"}],
                "Default": "Skipped"
            },
            "Skipped": {"Type": "Pass", "End": true},
            "FanOut": {
                "Type": "Parallel",
                "Branches": [
                    {"StartAt": "Left", "States": {"Left": {"Type": "Pass", "End": true}}},
                    {"StartAt": "Right", "States": {"Right": {
                        "Type": "Task",
                        "Resource": "arn:aws:lambda:us-east-1:123456789012:function:explode",
                        "End": true
                    }}}
                ],
                "ResultPath": "$.branches",
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Recover"}],
                "Next": "StoreEach"
            },
            "Recover": {"Type": "Pass", "Next": "StoreEach"},
            "StoreEach": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "ItemProcessor": {"StartAt": "Store", "States": {"Store": {
                    "Type": "Task",
                    "Resource": "arn:aws:lambda:us-east-1:123456789012:function:store",
                    "End": true
                }}},
                "ResultPath": "$.stored",
                "Next": "Done"
            },
            "Done": {"Type": "Succeed"}
        }
    })
}

/// `work` fails once with a retryable error, then succeeds, unless the
/// input asks for a fatal failure (whose cause carries the injection) or
/// for it to hang, which keeps an execution RUNNING; `explode` always
/// fails; `store` echoes.
fn handlers() -> Handlers {
    let calls = Arc::new(AtomicUsize::new(0));
    let mut handlers = Handlers::new();
    handlers.register("work", move |request| {
        let first = calls.fetch_add(1, Ordering::SeqCst) == 0;
        async move {
            if request.input["mode"] == "hang" {
                std::future::pending::<()>().await;
            }
            if request.input["mode"] == "fatal" {
                Err(Failure::new("Custom.Fatal", format!("{INJECTION} blew up")))
            } else if first {
                Err(Failure::new("Custom.Flaky", "try again"))
            } else {
                Ok(json!({"worked": true}))
            }
        }
    });
    handlers.register("explode", |_| async {
        Err(Failure::new(
            "Custom.Explode",
            "the right branch always fails",
        ))
    });
    handlers.register("store", |request| async move {
        Ok(json!({"stored": request.input}))
    });
    handlers
}

struct Served {
    base: String,
    engine: Engine,
    succeeded_arn: String,
    failed_arn: String,
    running_arn: String,
    _dir: tempfile::TempDir,
}

/// An engine with a SUCCEEDED, a FAILED and a RUNNING execution, behind the
/// API and the console on a loopback port.
async fn serve() -> Served {
    let dir = tempfile::tempdir().expect("a temp dir");
    let mut config = EngineConfig::new(dir.path().join("engine.db"));
    // 2025-03-14T09:30:00Z; virtual, so the Retry's interval takes no time.
    config.clock = Clock::virtual_at(1_741_944_600_000);
    let engine = Engine::open(config, handlers()).expect("open the engine");
    let machine = engine
        .create_state_machine("console-demo", &definition().to_string(), None)
        .expect("create the state machine");

    let ok_input =
        json!({"mode": "fan-out", "note": INJECTION, "items": ["a.mp4", "b.m4a", "c.vtt"]});
    let ok = engine
        .start_execution(&machine.arn, Some("console-ok"), ok_input)
        .await
        .expect("start console-ok");
    let row = engine
        .wait_for(&ok.execution_arn)
        .await
        .expect("console-ok ends");
    assert_eq!(
        row.status, "SUCCEEDED",
        "console-ok: {:?} {:?}",
        row.error, row.cause
    );

    let failed = engine
        .start_execution(
            &machine.arn,
            Some("console-failed"),
            json!({"mode": "fatal", "items": []}),
        )
        .await
        .expect("start console-failed");
    let row = engine
        .wait_for(&failed.execution_arn)
        .await
        .expect("console-failed ends");
    assert_eq!(row.status, "FAILED");

    let running = engine
        .start_execution(
            &machine.arn,
            Some("console-running"),
            json!({"mode": "hang", "items": []}),
        )
        .await
        .expect("start console-running");
    // Running for the page once its task is under way: the journal shows
    // the task started.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !engine
        .history(&running.execution_arn)
        .unwrap()
        .iter()
        .any(|e| e["type"] == "TaskStarted")
    {
        assert!(
            Instant::now() < deadline,
            "console-running never started its task"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    // `app` as serve mounts it: the API at `POST /`, the console beside it.
    let router = app(engine.clone(), ApiConfig::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port");
    let base = format!("http://{}", listener.local_addr().expect("local address"));
    tokio::spawn(async move { axum::serve(listener, router).await });
    Served {
        base,
        engine,
        succeeded_arn: ok.execution_arn,
        failed_arn: failed.execution_arn,
        running_arn: running.execution_arn,
        _dir: dir,
    }
}

fn chromium() -> &'static str {
    assert!(
        Path::new(CHROMIUM).exists(),
        "the console test drives a real browser and needs Chromium at {CHROMIUM}: \
         run `apt-get install chromium`"
    );
    CHROMIUM
}

/// Runs headless Chromium with `args` plus the shared flags, on a blocking
/// thread (the server runs on this test's runtime), and returns its stdout.
/// A fresh profile per run, and a deadline, so one hung browser cannot
/// stall the suite.
async fn run_chromium(args: Vec<String>) -> String {
    let binary = chromium();
    tokio::task::spawn_blocking(move || {
        let profile = tempfile::tempdir().expect("a profile dir");
        let mut child = Command::new(binary)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--hide-scrollbars",
                "--virtual-time-budget=10000",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .args(&args)
            .env("TZ", "UTC")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("start {binary}: {e}; run `apt-get install chromium`"));
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            match child.try_wait().expect("wait for chromium") {
                Some(_) => break,
                None if Instant::now() > deadline => {
                    let _ = child.kill();
                    panic!("chromium {args:?} did not finish within two minutes");
                }
                None => std::thread::sleep(Duration::from_millis(50)),
            }
        }
        let output = child.wait_with_output().expect("chromium output");
        assert!(
            output.status.success(),
            "chromium {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    })
    .await
    .expect("the chromium thread")
}

/// Loads `url` and returns the DOM once the page's script has settled,
/// saving a screenshot under `CARGO_TARGET_TMPDIR` from the same launch when
/// `screenshot` names one (launches are what make this test slow).
async fn load(url: &str, screenshot: Option<&str>) -> String {
    let mut args = vec!["--dump-dom".to_string()];
    let path = screenshot.map(|name| Path::new(env!("CARGO_TARGET_TMPDIR")).join(name));
    if let Some(path) = &path {
        let _ = std::fs::remove_file(path);
        args.push(format!("--screenshot={}", path.display()));
        args.push("--window-size=1400,1000".into());
    }
    args.push(url.to_string());
    let dom = run_chromium(args).await;
    assert!(
        dom.contains(r#"data-console="ready""#),
        "the page at {url} did not finish loading; its DOM:\n{dom}"
    );
    if let Some(path) = path {
        assert!(
            path.exists(),
            "chromium wrote no screenshot at {}",
            path.display()
        );
        println!("screenshot: {}", path.display());
    }
    dom
}

/// The opening tag of the first element carrying `marker` (an attribute,
/// as serialized), so assertions can read its other attributes.
fn tag_with<'a>(dom: &'a str, marker: &str) -> &'a str {
    let at = dom
        .find(marker)
        .unwrap_or_else(|| panic!("no element with {marker} in the DOM"));
    let start = dom[..at].rfind('<').expect("a tag start");
    let end = at + dom[at..].find('>').expect("a tag end");
    &dom[start..=end]
}

fn attribute<'a>(tag: &'a str, name: &str) -> &'a str {
    let key = format!(" {name}=\"");
    let at = tag
        .find(&key)
        .unwrap_or_else(|| panic!("no {name} in {tag}"))
        + key.len();
    let end = at + tag[at..].find('"').expect("a closing quote");
    &tag[at..end]
}

/// The `data-status` of the graph node drawn for state `name`.
fn state_status<'a>(dom: &'a str, name: &str) -> &'a str {
    attribute(
        tag_with(dom, &format!("data-state=\"{name}\"")),
        "data-status",
    )
}

/// The markup of the table row holding `marker`.
fn row_with<'a>(dom: &'a str, marker: &str) -> &'a str {
    let at = dom
        .find(marker)
        .unwrap_or_else(|| panic!("no row with {marker}"));
    let start = dom[..at].rfind("<tr").expect("a row start");
    let end = at + dom[at..].find("</tr>").expect("a row end");
    &dom[start..end]
}

/// The markup of the element whose opening tag holds `marker`, up to the
/// first closing tag of its name: enough for elements that do not nest
/// their own kind (an error box, the details panel).
fn element_at<'a>(dom: &'a str, marker: &str) -> &'a str {
    let open = tag_with(dom, marker);
    let start = dom.find(open).expect("the tag is in the DOM");
    let name: String = open[1..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect();
    let end = start
        + dom[start..]
            .find(&format!("</{name}>"))
            .unwrap_or_else(|| panic!("no </{name}> after {open}"));
    &dom[start..end]
}

fn execution_url(base: &str, arn: &str) -> String {
    format!("{base}/console#/execution/{arn}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_shows_executions_graph_and_events() {
    let served = serve().await;
    let base = &served.base;

    // The executions list: all three, newest first, with their statuses.
    let list = load(
        &format!("{base}/console#/executions"),
        Some("console-executions.png"),
    )
    .await;
    let ok_row = row_with(&list, r#"data-execution="console-ok""#);
    assert!(ok_row.contains(r#"data-status="SUCCEEDED""#), "{ok_row}");
    assert!(ok_row.contains(">Succeeded<"), "{ok_row}");
    assert!(
        ok_row.contains(">console-demo<"),
        "the state machine column: {ok_row}"
    );
    let failed_row = row_with(&list, r#"data-execution="console-failed""#);
    assert!(
        failed_row.contains(r#"data-status="FAILED""#),
        "{failed_row}"
    );
    let running_row = row_with(&list, r#"data-execution="console-running""#);
    assert!(
        running_row.contains(r#"data-status="RUNNING""#),
        "{running_row}"
    );
    assert!(
        running_row.contains(">running<"),
        "no end, no duration: {running_row}"
    );
    let order: Vec<usize> = ["console-running", "console-failed", "console-ok"]
        .iter()
        .map(|name| list.find(&format!(r#"data-execution="{name}""#)).unwrap())
        .collect();
    assert!(order.is_sorted(), "newest first: {order:?}");

    // The succeeded execution, with the failed branch's Task selected: every
    // state drawn, coloured by its outcome.
    let page = load(
        &format!("{}?state=Right", execution_url(base, &served.succeeded_arn)),
        Some("console-execution.png"),
    )
    .await;
    for (state, status) in [
        ("Prepare", "succeeded"),
        ("Work", "caught"), // failed once, then retried
        ("Route", "succeeded"),
        ("Skipped", "not-reached"),
        ("FanOut", "caught"), // a branch failed; the Catch took over
        ("Left", "succeeded"),
        ("Right", "failed"),
        ("Recover", "succeeded"),
        ("StoreEach", "succeeded"),
        ("Store", "succeeded"),
        ("Done", "succeeded"),
    ] {
        assert_eq!(state_status(&page, state), status, "state {state}");
    }
    assert_eq!(
        page.matches(r#"<g class="state"#).count(),
        11,
        "one node per state, nested ones included"
    );
    assert!(
        page.contains(">Task · 3 runs<"),
        "the Map's processor ran thrice"
    );
    assert!(page.contains(r#"class="legend""#), "the graph has a legend");
    assert!(
        page.contains(r#"class="edge catch taken""#),
        "the Catch's path is drawn as taken"
    );
    assert!(
        tag_with(&page, r#"data-state="Right""#).contains(" selected"),
        "the state named in the address is selected"
    );
    let panel = element_at(&page, r#"class="state-panel""#);
    assert!(panel.contains("<h3>Right</h3>"), "{panel}");
    assert!(
        panel.contains(">Custom.Explode (LambdaFunctionFailed)<"),
        "{panel}"
    );
    assert!(panel.contains(r#"class="code state-input""#), "{panel}");

    // The event table lists every history event, in order, with the state
    // each belongs to.
    let history = served.engine.history(&served.succeeded_arn).unwrap();
    assert_eq!(page.matches(r#"<tr class="event""#).count(), history.len());
    assert_eq!(
        page.matches(r#"class="expand" aria-expanded="false""#)
            .count(),
        history.len(),
        "every event's details can be expanded"
    );
    let mut last = 0;
    for event in &history {
        let marker = format!(
            r#"data-event-id="{}" data-event-type="{}""#,
            event["id"],
            event["type"].as_str().unwrap()
        );
        let at = page
            .find(&marker)
            .unwrap_or_else(|| panic!("no row {marker}"));
        assert!(at > last, "row {marker} out of order");
        last = at;
    }
    let task_failed = row_with(&page, r#"data-event-type="TaskFailed""#);
    assert!(
        task_failed.contains(">Work<"),
        "the retried failure is Work's: {task_failed}"
    );
    assert!(task_failed.contains("Custom.Flaky"), "{task_failed}");
    let branch_failed = row_with(&page, r#"data-event-type="LambdaFunctionFailed""#);
    assert!(branch_failed.contains(">Right<"), "{branch_failed}");
    assert!(branch_failed.contains("Custom.Explode"), "{branch_failed}");

    // The input's markup is text: escaped in the serialized DOM, and no
    // element made from it.
    assert!(
        page.contains("&lt;img src=x onerror="),
        "the injection string shows as text"
    );
    assert!(
        !page.contains("<img"),
        "no element came from execution data"
    );
    assert!(!page.contains("pwned</title>"));

    // The failed execution: the failing Task red, the rest unreached, and
    // the error and its cause (markup again) shown as text.
    let failed = load(&execution_url(base, &served.failed_arn), None).await;
    assert_eq!(state_status(&failed, "Prepare"), "succeeded");
    assert_eq!(state_status(&failed, "Work"), "failed");
    for state in [
        "Route",
        "Skipped",
        "FanOut",
        "Left",
        "Right",
        "StoreEach",
        "Done",
    ] {
        assert_eq!(state_status(&failed, state), "not-reached", "state {state}");
    }
    let error = element_at(&failed, r#"class="error-box execution-error""#);
    assert!(error.contains(">Custom.Fatal<"), "{error}");
    assert!(error.contains("&lt;img src=x onerror="), "{error}");
    assert!(!failed.contains("<img"));

    // The running execution: its Task in progress, the page polling.
    let running = load(&execution_url(base, &served.running_arn), None).await;
    assert_eq!(state_status(&running, "Prepare"), "succeeded");
    assert_eq!(state_status(&running, "Work"), "running");
    assert_eq!(state_status(&running, "Done"), "not-reached");
    assert_eq!(
        tag_with(&running, r#"class="live""#),
        r#"<span class="live">"#
    );
}

#[tokio::test]
async fn console_assets_have_their_types_and_a_strict_policy() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, console::routes()).await });
    let client = reqwest::Client::new();
    for (path, content_type) in [
        ("/console", "text/html; charset=utf-8"),
        ("/console/", "text/html; charset=utf-8"),
        ("/console/console.js", "text/javascript; charset=utf-8"),
        ("/console/console.css", "text/css; charset=utf-8"),
    ] {
        let response = client.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string()
        };
        assert_eq!(header("content-type"), content_type, "{path}");
        assert_eq!(header("cache-control"), "no-cache", "{path}");
        assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
        let policy = header("content-security-policy");
        assert!(policy.starts_with("default-src 'self'"), "{path}: {policy}");
        assert!(policy.contains("script-src 'self';"), "{path}: {policy}");
        assert!(!policy.contains("unsafe"), "{path}: {policy}");
    }
    let missing = client
        .get(format!("{base}/console/nope.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}

/// The page's script and markup never build HTML from strings and carry no
/// inline script: the policy would block it, and data must stay text.
#[test]
fn console_files_build_no_markup_from_strings() {
    let script = include_str!("../console/console.js");
    for sink in [
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "document.write",
        "eval(",
    ] {
        assert!(!script.contains(sink), "console.js uses {sink}");
    }
    let page = include_str!("../console/index.html");
    for tag in page.match_indices("<script").map(|(i, _)| &page[i..]) {
        let open = &tag[..tag.find('>').unwrap()];
        assert!(open.contains(" src=\"/console/"), "inline script: {open}");
    }
    assert!(!page.contains("style="), "inline style in index.html");
    let handler = page.split(" on").skip(1).find(|rest| {
        let name_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        name_len > 0 && rest[name_len..].starts_with('=')
    });
    assert!(
        handler.is_none(),
        "an inline handler in index.html: on{handler:?}"
    );
}
