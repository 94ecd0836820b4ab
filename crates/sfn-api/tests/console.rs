//! The console end to end: a real engine behind the real API, the page
//! served by `app`, and Debian's headless Chromium loading it, so what is
//! checked is the DOM a browser builds from the page's script and the API's
//! answers. Chromium is required: without it the test fails and says how
//! to install it, rather than passing without having looked at anything.
//!
//! Pages that only need loading are dumped with `--dump-dom`; signing in
//! needs clicks and typing, so that test drives one Chromium over the
//! DevTools protocol ([`DevTools`]).

use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Uri};
use base64::Engine as _;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};
use zoomvault_asl::Failure;
use zoomvault_engine::{Clock, Engine, EngineConfig, Handlers};
use zoomvault_sfn_api::sigv4::{Credentials, Verifier};
use zoomvault_sfn_api::{app, console, ApiConfig, Auth};

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
/// API (authenticating as `api` says) and the console on a loopback port.
async fn serve(api: ApiConfig) -> Served {
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
    let router = app(engine.clone(), api);
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
    let served = serve(ApiConfig::default()).await;
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
    for (path, script) in console_scripts() {
        for sink in [
            "innerHTML",
            "outerHTML",
            "insertAdjacentHTML",
            "document.write",
            "eval(",
        ] {
            assert!(!script.contains(sink), "{path} uses {sink}");
        }
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

/// The page's script keeps the API key out of logs and out of any storage
/// that outlives the tab.
#[test]
fn console_keeps_the_key_out_of_logs_and_lasting_storage() {
    for (path, script) in console_scripts() {
        for leak in ["localStorage", "document.cookie", "indexedDB"] {
            assert!(!script.contains(leak), "{path} uses {leak}");
        }
        for method in [
            "log", "info", "warn", "error", "debug", "trace", "dir", "table",
        ] {
            let call = format!("console.{method}(");
            assert!(!script.contains(&call), "{path} calls {call}");
        }
    }
}

/// Every script of the console as it sits in the crate, by the path it is
/// served at: the entry module and each module under `console/js/`. Read
/// from the directory, not from the server's list, so a module that is on
/// disk but not served is still checked (and fails the serving test).
fn console_scripts() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("console");
    let read = |path: &Path| {
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
    };
    let mut scripts = vec![(
        "/console/console.js".to_string(),
        read(&root.join("console.js")),
    )];
    let modules = root.join("js");
    let mut names: Vec<String> = std::fs::read_dir(&modules)
        .unwrap_or_else(|e| panic!("list {}: {e}", modules.display()))
        .map(|entry| entry.expect("a directory entry").file_name())
        .map(|name| name.into_string().expect("a UTF-8 file name"))
        .collect();
    names.sort();
    for name in names {
        assert!(name.ends_with(".js"), "console/js/{name} is not a module");
        scripts.push((format!("/console/js/{name}"), read(&modules.join(&name))));
    }
    scripts
}

/// Each module is served as JavaScript (browsers refuse a module of any
/// other type), byte for byte as it is in the crate, under the same policy
/// as the page; a module name the console does not have is a 404.
#[tokio::test]
async fn every_console_module_is_served_as_javascript_under_the_policy() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, console::routes()).await });
    let client = reqwest::Client::new();
    let scripts = console_scripts();
    assert!(scripts.len() > 1, "the entry module imports others");
    for (path, source) in &scripts {
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
        assert_eq!(
            header("content-type"),
            "text/javascript; charset=utf-8",
            "{path}"
        );
        assert_eq!(
            header("content-security-policy"),
            console::CONTENT_SECURITY_POLICY,
            "{path}"
        );
        assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(header("cache-control"), "no-cache", "{path}");
        assert_eq!(&response.text().await.unwrap(), source, "{path}");
    }
    for path in [
        "/console/js/nope.js",
        "/console/js/API.js",
        "/console/js/api",
        "/console/js/api.js/",
        "/console/js/",
        "/console/api.js",
        "/console/js/console.js",
    ] {
        let response = client.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(response.status(), 404, "{path}");
    }
}

/// The modules import only each other, by relative paths the server routes,
/// and every module on disk is reached from the entry: none is missing and
/// none is dead.
#[test]
fn console_modules_import_only_each_other() {
    let scripts = console_scripts();
    let served: BTreeSet<&str> = scripts.iter().map(|(path, _)| path.as_str()).collect();
    let imports = |path: &str| -> Vec<String> {
        let source = &scripts.iter().find(|(p, _)| p == path).expect("a script").1;
        let dir = &path[..=path.rfind('/').expect("a directory")];
        source
            .lines()
            .filter_map(|line| line.split_once(" from '").map(|(_, rest)| rest))
            .map(|rest| {
                let specifier = &rest[..rest.find('\'').expect("a closing quote")];
                let relative = specifier
                    .strip_prefix("./")
                    .unwrap_or_else(|| panic!("{path} imports {specifier}: not ./ relative"));
                format!("{dir}{relative}")
            })
            .collect()
    };
    let mut reached = BTreeSet::from(["/console/console.js".to_string()]);
    let mut pending = vec!["/console/console.js".to_string()];
    while let Some(path) = pending.pop() {
        for target in imports(&path) {
            assert!(
                served.contains(target.as_str()),
                "{path} imports {target}, which is not a console module"
            );
            if reached.insert(target.clone()) {
                pending.push(target);
            }
        }
    }
    let reached: BTreeSet<&str> = reached.iter().map(String::as_str).collect();
    assert_eq!(reached, served, "modules the entry never reaches");
}

const ACCESS_KEY_ID: &str = "AKIDCONSOLE";
const SECRET_ACCESS_KEY: &str = "console-secret-0123456789";

/// What `delete Crypto.prototype.subtle` leaves is what a page on plain
/// http to a LAN address has: no `crypto.subtle`. The clock an hour slow
/// makes the first signature one the server calls expired.
const INSECURE_AND_SLOW: &str = "delete Crypto.prototype.subtle; \
     const realNow = Date.now; Date.now = () => realNow.call(Date) - 3600 * 1000;";

/// Beyond loopback the API wants SigV4, and the console signs. Unsigned, the
/// page shows the sign-in form; a wrong secret is refused with the server's
/// InvalidSignatureException and loads nothing; the right key loads the
/// executions and the graph, held in this tab's session storage only, until
/// sign-out. A second tab without WebCrypto and with its clock an hour slow
/// signs with the page's own SHA-256 by the server's clock, and drops a kept
/// key the server stops taking. The self-test's vectors pass with both
/// implementations, and the calls it signs verify with the server's own
/// verifier. One browser, one tab per case.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_signs_its_requests_when_the_server_requires_sigv4() {
    let verifier = Verifier::new(vec![Credentials::new(ACCESS_KEY_ID, SECRET_ACCESS_KEY)]);
    let served = serve(ApiConfig {
        auth: Auth::Signed(Arc::new(verifier)),
    })
    .await;
    let base = served.base.clone();
    let succeeded_arn = served.succeeded_arn.clone();
    // The browser is driven with blocking reads; the server keeps running
    // on this test's runtime meanwhile.
    tokio::task::spawn_blocking(move || {
        let mut browser = DevTools::launch();
        self_test_passes_and_its_signatures_verify(&mut browser, &base);
        signing_in_loads_the_console_and_signing_out_forgets_the_key(
            &mut browser,
            &base,
            &succeeded_arn,
        );
        without_webcrypto_and_with_a_slow_clock_the_page_still_signs(&mut browser, &base);
        browser.close();
    })
    .await
    .expect("the browser session");
}

fn self_test_passes_and_its_signatures_verify(browser: &mut DevTools, base: &str) {
    let tab = browser.open(&format!("{base}/console#/selftest"), None);
    browser.wait_for(&tab, r#"#view[data-console="ready"]"#);
    let dom = browser.dom(&tab);
    // 127.0.0.1 is a secure context, so WebCrypto runs the vectors too.
    for implementation in ["javascript", "webcrypto"] {
        let rows = dom
            .matches(&format!(r#"data-implementation="{implementation}""#))
            .count();
        assert_eq!(rows, 13, "{implementation} vectors");
    }
    assert!(
        !dom.contains(r#"data-result="fail""#),
        "a vector failed:\n{dom}"
    );
    assert_eq!(dom.matches(r#"data-result="pass""#).count(), 26);
    assert!(dom.contains(r#"data-failed="0""#));

    let computed = |vector: &str| vector_result(&dom, vector, "javascript");
    // Digests the page only compares with its own constants, recomputed
    // here with the sha2 crate.
    assert_eq!(
        computed("sha256-utf8"),
        hex::encode(Sha256::digest("zoomvault ✓ 日本 🎬".as_bytes()))
    );
    let lengths: String = (0..=200usize)
        .map(|length| {
            let bytes: Vec<u8> = (0..length).map(|i| (i & 0xff) as u8).collect();
            hex::encode(Sha256::digest(&bytes))
        })
        .collect();
    assert_eq!(
        computed("sha256-lengths-0-200"),
        hex::encode(Sha256::digest(lengths.as_bytes()))
    );
    assert_eq!(
        computed("sigv4-signing-key"),
        "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9"
    );

    // The signatures the page's own SHA-256 made pass the server's verifier:
    // AWS's get-vanilla, and a JSON 1.0 call as the console sends it, whose
    // body has multi-byte UTF-8.
    let example = Verifier::new(vec![Credentials::new(
        "AKIDEXAMPLE",
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
    )]);
    let signed_at = time::Date::from_calendar_date(2015, time::Month::August, 30)
        .and_then(|date| date.with_hms(12, 36, 0))
        .expect("a date")
        .assume_utc();
    let get_vanilla = computed("sigv4-get-vanilla");
    example
        .verify(
            &Method::GET,
            &Uri::from_static("/"),
            &headers(&[
                ("host", "example.amazonaws.com"),
                ("x-amz-date", "20150830T123600Z"),
                ("authorization", &get_vanilla),
            ]),
            b"",
            signed_at,
        )
        .unwrap_or_else(|e| panic!("get-vanilla {get_vanilla}: {e}"));
    let json_post = computed("sigv4-json-post");
    let body = json!({"executionArn": "arn:aws:states:us-east-1:123456789012:execution:demo:réunion-✓-🎬"})
        .to_string();
    example
        .verify(
            &Method::POST,
            &Uri::from_static("/"),
            &headers(&[
                ("host", "console.example:8443"),
                ("content-type", "application/x-amz-json-1.0"),
                ("x-amz-date", "20150830T123600Z"),
                ("x-amz-target", "AWSStepFunctions.DescribeExecution"),
                ("authorization", &json_post),
            ]),
            body.as_bytes(),
            signed_at,
        )
        .unwrap_or_else(|e| panic!("json-post {json_post}: {e}"));
    browser.close_tab(tab);
}

fn signing_in_loads_the_console_and_signing_out_forgets_the_key(
    browser: &mut DevTools,
    base: &str,
    succeeded_arn: &str,
) {
    // Unsigned: refused, so the form, and nothing else.
    let tab = browser.open(&format!("{base}/console#/executions"), None);
    browser.wait_for(&tab, r#"#view[data-console="signin"] form.signin-form"#);
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("console-signin.png");
    browser.screenshot(&tab, &path);
    println!("screenshot: {}", path.display());
    let form = browser.dom(&tab);
    assert!(form.contains(r#"id="signin-access-key-id""#), "{form}");
    assert!(form.contains(r#"id="signin-secret-access-key""#), "{form}");
    assert!(
        form.contains("The key is the server's ZOOMVAULT_API_ACCESS_KEY_ID"),
        "{form}"
    );
    assert!(
        !form.contains("error-box"),
        "a first visit is no error: {form}"
    );
    assert!(!form.contains("data-execution="), "{form}");

    // A wrong secret: the server's refusal, named, and still no data.
    browser.click(&tab, "#signin-access-key-id");
    browser.type_text(&tab, ACCESS_KEY_ID);
    browser.click(&tab, "#signin-secret-access-key");
    browser.type_text(&tab, "not-the-console-secret-0123");
    browser.click(&tab, r#"form.signin-form button[type="submit"]"#);
    browser.wait_for(
        &tab,
        r#"#view[data-console="signin"] .signin-problem .error-box"#,
    );
    let refused = browser.dom(&tab);
    let error = element_at(&refused, r#"class="error-box""#);
    assert!(
        error.contains(">InvalidSignatureException (HTTP 400)<"),
        "{error}"
    );
    assert!(
        error.contains("The request signature we calculated does not match"),
        "{error}"
    );
    assert!(
        error.contains("The secret access key is not the one the server has"),
        "{error}"
    );
    assert!(!refused.contains("data-execution="), "{refused}");
    assert_eq!(browser.evaluate(&tab, "sessionStorage.length"), json!(0));
    assert_eq!(
        browser.evaluate(
            &tab,
            "document.getElementById('signin-secret-access-key').value"
        ),
        json!(""),
        "the refused secret is cleared"
    );

    // The right secret (the access key ID is still typed in): the list.
    browser.click(&tab, "#signin-secret-access-key");
    browser.type_text(&tab, SECRET_ACCESS_KEY);
    browser.click(&tab, r#"form.signin-form button[type="submit"]"#);
    browser.wait_for(
        &tab,
        r#"#view[data-console="ready"] tr[data-execution="console-ok"]"#,
    );
    let list = browser.dom(&tab);
    let ok_row = row_with(&list, r#"data-execution="console-ok""#);
    assert!(ok_row.contains(r#"data-status="SUCCEEDED""#), "{ok_row}");
    assert!(list.contains(r#"data-execution="console-failed""#));
    let session = element_at(&list, r#"class="session-key""#);
    assert!(session.contains(r#"data-signer="webcrypto""#), "{session}");
    assert!(session.contains(ACCESS_KEY_ID), "{session}");
    assert!(
        !list.contains(SECRET_ACCESS_KEY),
        "the secret is in the DOM"
    );
    assert_eq!(
        browser.evaluate(
            &tab,
            &format!("location.href.includes({})", json!(SECRET_ACCESS_KEY))
        ),
        json!(false)
    );
    assert_eq!(
        browser.evaluate(
            &tab,
            "[sessionStorage.length, localStorage.length, document.cookie]"
        ),
        json!([1, 0, ""])
    );

    // Another view in the same tab signs with the kept key: the graph.
    browser.evaluate(
        &tab,
        &format!(
            "location.hash = {}",
            json!(format!("#/execution/{succeeded_arn}"))
        ),
    );
    browser.wait_for(&tab, r#"#view[data-console="ready"] g[data-state="Done"]"#);
    let graph = browser.dom(&tab);
    assert_eq!(graph.matches(r#"<g class="state"#).count(), 11);
    assert_eq!(state_status(&graph, "Done"), "succeeded");
    assert_eq!(state_status(&graph, "Right"), "failed");

    // Sign-out forgets the key: the form again, nothing kept.
    browser.click(&tab, "button.sign-out");
    browser.wait_for(&tab, r#"#view[data-console="signin"] form.signin-form"#);
    assert_eq!(browser.evaluate(&tab, "sessionStorage.length"), json!(0));
    let signed_out = browser.dom(&tab);
    assert!(!signed_out.contains("session-key"), "{signed_out}");
    assert!(!signed_out.contains("data-state="), "{signed_out}");
    browser.close_tab(tab);
}

fn without_webcrypto_and_with_a_slow_clock_the_page_still_signs(
    browser: &mut DevTools,
    base: &str,
) {
    // A new tab has its own session storage: signed out again.
    let tab = browser.open(
        &format!("{base}/console#/executions"),
        Some(INSECURE_AND_SLOW),
    );
    browser.wait_for(&tab, r#"#view[data-console="signin"] form.signin-form"#);
    assert_eq!(
        browser.evaluate(&tab, "typeof crypto.subtle"),
        json!("undefined")
    );
    browser.click(&tab, "#signin-access-key-id");
    browser.type_text(&tab, ACCESS_KEY_ID);
    browser.click(&tab, "#signin-secret-access-key");
    browser.type_text(&tab, SECRET_ACCESS_KEY);
    browser.click(&tab, r#"form.signin-form button[type="submit"]"#);
    browser.wait_for(
        &tab,
        r#"#view[data-console="ready"] tr[data-execution="console-ok"]"#,
    );
    let list = browser.dom(&tab);
    let session = element_at(&list, r#"class="session-key""#);
    assert!(session.contains(r#"data-signer="javascript""#), "{session}");

    // A kept key the server no longer takes (as after the server's key
    // changed) is dropped at the next view, and the form says why.
    browser.evaluate(
        &tab,
        &format!(
            "sessionStorage.setItem('zoomvault-console-credentials', JSON.stringify({}))",
            json!({"accessKeyId": ACCESS_KEY_ID, "secretAccessKey": "rotated-away-0123456789"})
        ),
    );
    browser.click(&tab, ".page-head .toolbar > button.button");
    browser.wait_for(
        &tab,
        r#"#view[data-console="signin"] .signin-problem .error-box"#,
    );
    let refused = browser.dom(&tab);
    let error = element_at(&refused, r#"class="error-box""#);
    assert!(
        error.contains(">InvalidSignatureException (HTTP 400)<"),
        "{error}"
    );
    assert_eq!(browser.evaluate(&tab, "sessionStorage.length"), json!(0));
    assert_eq!(
        browser.evaluate(
            &tab,
            "document.getElementById('signin-access-key-id').value"
        ),
        json!(ACCESS_KEY_ID),
        "the refused key's ID is kept in the form"
    );
    assert!(!refused.contains("session-key"), "{refused}");
    browser.close_tab(tab);
}

/// The text the self-test computed for `vector` with `implementation`.
fn vector_result(dom: &str, vector: &str, implementation: &str) -> String {
    let row = row_with(
        dom,
        &format!(r#"data-vector="{vector}" data-implementation="{implementation}""#),
    );
    let cell = r#"<td class="mono actual">"#;
    let at = row
        .find(cell)
        .unwrap_or_else(|| panic!("no computed cell in {row}"))
        + cell.len();
    let end = at + row[at..].find("</td>").expect("the cell's end");
    row[at..end].to_owned()
}

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    pairs
        .iter()
        .map(|(name, value)| {
            (
                HeaderName::from_bytes(name.as_bytes()).expect("a header name"),
                HeaderValue::from_str(value).expect("a header value"),
            )
        })
        .collect()
}

/// Chromium under the DevTools protocol, for what `--dump-dom` cannot do:
/// click and type. The protocol runs over a pipe
/// (`--remote-debugging-pipe`: JSON messages each ending in a NUL, read
/// from the browser's fd 3 and answered on its fd 4), so no WebSocket
/// client is needed; `sh` moves the pipes std gives the child as stdin and
/// stdout onto fds 3 and 4, which std alone cannot do without unsafe code.
/// Input goes through `Input.*`, as a user's would, not through script.
struct DevTools {
    child: Child,
    to_browser: ChildStdin,
    from_browser: mpsc::Receiver<Value>,
    next_id: u64,
    /// Events read while waiting for something else.
    events: Vec<Value>,
    profile: tempfile::TempDir,
}

/// A tab attached in flat mode: its commands carry its session id.
struct Tab {
    target: String,
    session: String,
}

impl DevTools {
    fn launch() -> DevTools {
        let binary = chromium();
        let profile = tempfile::tempdir().expect("a profile dir");
        let log = std::fs::File::create(profile.path().join("chromium.log")).expect("a log file");
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(r#"exec "$0" "$@" 3<&0 4>&1 </dev/null >/dev/null"#)
            .arg(binary)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--hide-scrollbars",
                "--remote-debugging-pipe",
            ])
            .arg(format!(
                "--user-data-dir={}",
                profile.path().join("profile").display()
            ))
            .arg("about:blank")
            .env("TZ", "UTC")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("start {binary}: {e}; run `apt-get install chromium`"));
        let to_browser = child.stdin.take().expect("the browser's fd 3");
        let from_browser = child.stdout.take().expect("the browser's fd 4");
        let (sender, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(from_browser);
            let mut message = Vec::new();
            while reader
                .read_until(0, &mut message)
                .is_ok_and(|read| read > 0)
            {
                if message.last() == Some(&0) {
                    message.pop();
                }
                let Ok(value) = serde_json::from_slice(&message) else {
                    break;
                };
                if sender.send(value).is_err() {
                    break;
                }
                message.clear();
            }
        });
        DevTools {
            child,
            to_browser,
            from_browser: receiver,
            next_id: 0,
            events: Vec::new(),
            profile,
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.profile.path().join("chromium.log")).unwrap_or_default()
    }

    fn receive(&mut self, waiting_for: &str) -> Value {
        match self.from_browser.recv_timeout(Duration::from_secs(30)) {
            Ok(message) => message,
            Err(e) => panic!(
                "chromium said nothing while {waiting_for} ({e}); its log:\n{}",
                self.log()
            ),
        }
    }

    /// Sends a command (to the browser, or to `tab`) and returns its result.
    fn command(&mut self, tab: Option<&Tab>, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({"id": id, "method": method, "params": params});
        if let Some(tab) = tab {
            message["sessionId"] = json!(tab.session);
        }
        let mut bytes = serde_json::to_vec(&message).expect("a command");
        bytes.push(0);
        if let Err(e) = self
            .to_browser
            .write_all(&bytes)
            .and_then(|()| self.to_browser.flush())
        {
            panic!("send {method} to chromium: {e}; its log:\n{}", self.log());
        }
        loop {
            let answer = self.receive(&format!("answering {method}"));
            if answer["id"] == id {
                if let Some(error) = answer.get("error") {
                    panic!("{method} {params}: {error}");
                }
                return answer["result"].clone();
            }
            self.events.push(answer);
        }
    }

    fn wait_event(&mut self, wanted: impl Fn(&Value) -> bool, what: &str) -> Value {
        if let Some(at) = self.events.iter().position(&wanted) {
            return self.events.remove(at);
        }
        loop {
            let event = self.receive(what);
            if wanted(&event) {
                return event;
            }
            self.events.push(event);
        }
    }

    /// A new tab at `url`, once the page has loaded, with `before_load` run
    /// in it before any of the page's own script.
    fn open(&mut self, url: &str, before_load: Option<&str>) -> Tab {
        let target = self.command(None, "Target.createTarget", json!({"url": "about:blank"}));
        let target = target["targetId"].as_str().expect("a target id").to_owned();
        let attached = self.command(
            None,
            "Target.attachToTarget",
            json!({"targetId": target, "flatten": true}),
        );
        let session = attached["sessionId"]
            .as_str()
            .expect("a session id")
            .to_owned();
        let tab = Tab { target, session };
        self.command(Some(&tab), "Page.enable", json!({}));
        self.command(
            Some(&tab),
            "Page.setLifecycleEventsEnabled",
            json!({"enabled": true}),
        );
        self.command(
            Some(&tab),
            "Emulation.setDeviceMetricsOverride",
            json!({"width": 1400, "height": 1000, "deviceScaleFactor": 1, "mobile": false}),
        );
        self.command(Some(&tab), "Page.bringToFront", json!({}));
        if let Some(source) = before_load {
            self.command(
                Some(&tab),
                "Page.addScriptToEvaluateOnNewDocument",
                json!({"source": source}),
            );
        }
        let navigated = self.command(Some(&tab), "Page.navigate", json!({"url": url}));
        assert!(
            navigated.get("errorText").is_none(),
            "open {url}: {navigated}"
        );
        let loader = navigated["loaderId"].clone();
        self.wait_event(
            |event| {
                event["method"] == "Page.lifecycleEvent"
                    && event["sessionId"] == tab.session.as_str()
                    && event["params"]["name"] == "load"
                    && event["params"]["loaderId"] == loader
            },
            &format!("loading {url}"),
        );
        tab
    }

    fn close_tab(&mut self, tab: Tab) {
        self.command(None, "Target.closeTarget", json!({"targetId": tab.target}));
        // Its events are of no more use.
        self.events
            .retain(|event| event["sessionId"] != tab.session.as_str());
    }

    /// The value of `expression` in the page, awaited if it is a promise.
    fn evaluate(&mut self, tab: &Tab, expression: &str) -> Value {
        let answer = self.command(
            Some(tab),
            "Runtime.evaluate",
            json!({"expression": expression, "awaitPromise": true, "returnByValue": true}),
        );
        if let Some(exception) = answer.get("exceptionDetails") {
            panic!("`{expression}` threw: {exception}");
        }
        answer["result"]["value"].clone()
    }

    /// Waits until an element matches `selector`. The page watches its own
    /// DOM and answers, so nothing here polls; it gives up after ten
    /// seconds, and then the DOM is shown.
    fn wait_for(&mut self, tab: &Tab, selector: &str) {
        let expression = format!(
            "new Promise((resolve) => {{
               const selector = {};
               const found = () => document.querySelector(selector) !== null;
               if (found()) return resolve(true);
               const observer = new MutationObserver(() => {{
                 if (found()) {{ observer.disconnect(); resolve(true); }}
               }});
               observer.observe(document.documentElement, {{ subtree: true, childList: true, attributes: true }});
               setTimeout(() => {{ observer.disconnect(); resolve(found()); }}, 10000);
             }})",
            json!(selector)
        );
        if self.evaluate(tab, &expression) != json!(true) {
            panic!(
                "nothing matched {selector} within ten seconds; the DOM:\n{}",
                self.dom(tab)
            );
        }
    }

    fn dom(&mut self, tab: &Tab) -> String {
        self.evaluate(tab, "document.documentElement.outerHTML")
            .as_str()
            .expect("the DOM as text")
            .to_owned()
    }

    /// A left click in the middle of the element `selector` matches, as
    /// the mouse would give it.
    fn click(&mut self, tab: &Tab, selector: &str) {
        let point = self.evaluate(
            tab,
            &format!(
                "(() => {{
                   const element = document.querySelector({});
                   element.scrollIntoView({{ block: 'center' }});
                   const box = element.getBoundingClientRect();
                   return [box.x + box.width / 2, box.y + box.height / 2];
                 }})()",
                json!(selector)
            ),
        );
        for kind in ["mousePressed", "mouseReleased"] {
            self.command(
                Some(tab),
                "Input.dispatchMouseEvent",
                json!({"type": kind, "x": point[0], "y": point[1], "button": "left", "clickCount": 1}),
            );
        }
    }

    /// Types `text` into the focused element, as a keyboard (or an input
    /// method) would.
    fn type_text(&mut self, tab: &Tab, text: &str) {
        self.command(Some(tab), "Input.insertText", json!({"text": text}));
    }

    fn screenshot(&mut self, tab: &Tab, path: &Path) {
        let shot = self.command(
            Some(tab),
            "Page.captureScreenshot",
            json!({"format": "png"}),
        );
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().expect("screenshot data"))
            .expect("a base64 screenshot");
        std::fs::write(path, png).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    }

    /// Asks the browser to quit, and waits a little for it.
    fn close(mut self) {
        let _ = self.command(None, "Browser.close", json!({}));
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for DevTools {
    /// A browser left behind by a failed assertion is killed.
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
