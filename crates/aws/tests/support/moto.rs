//! moto's server (with the one correction in `moto_server.py`), started once per test binary on a free loopback port and
//! stopped when the test process exits (it watches its stdin, which closes
//! with the test process, so no server outlives a run, even one that
//! panicked). Each test works in its own bucket, table or bus, named by
//! [`unique`], so tests in one binary share the server safely.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// A running moto server.
#[derive(Debug)]
pub struct Moto {
    pub endpoint: String,
    _child: Mutex<Child>,
}

/// The server shared by this test binary, started on first use. Panics with
/// how to install moto when `moto_server` is not on the PATH.
pub fn moto() -> &'static Moto {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    MOTO.get_or_init(start)
}

fn start() -> Moto {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port();
    // `read` returns when the test process exits and its end of the pipe
    // closes; then the server is killed.
    // moto_server.py is moto's server with S3's ListParts answer named as
    // S3 names it (see that file).
    // Found from the including package (crates/aws, or the workspace's
    // end-to-end tests), whichever it is.
    const SERVER: &str = "crates/aws/tests/support/moto_server.py";
    let server = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .map(|dir| dir.join(SERVER))
        .find(|path| path.exists())
        .expect("moto_server.py is in the workspace");
    let server = server.display();
    let script = format!(
        "python3 {server} -H 127.0.0.1 -p {port} >/dev/null & pid=$!; \
         echo started; read _ignored; kill $pid 2>/dev/null; wait $pid 2>/dev/null"
    );
    let mut child = Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("sh runs");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("the wrapper starts");
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "moto_server did not listen on 127.0.0.1:{port} within 30 s; \
             install it with `pip install 'moto[server]' awscrt` (./scripts/test does)"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Moto {
        endpoint: format!("http://127.0.0.1:{port}"),
        _child: Mutex::new(child),
    }
}

impl Moto {
    /// An SDK configuration for this server: fixed test credentials,
    /// us-east-1, the server's endpoint.
    pub fn sdk_config(&self) -> aws_config::SdkConfig {
        let credentials = aws_credential_types::Credentials::from_keys("testing", "testing", None);
        aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .endpoint_url(&self.endpoint)
            .credentials_provider(
                aws_credential_types::provider::SharedCredentialsProvider::new(credentials),
            )
            .build()
    }
}

/// A name no other test in this run uses: `prefix-PID-N`, lower case, valid
/// as an S3 bucket, DynamoDB table or EventBridge bus name.
pub fn unique(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}
