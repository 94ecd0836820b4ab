//! Shared set-up for the integration tests: a simulator on a free port and a
//! client pointed at it. Owns no assertions.

#![allow(dead_code)]

use std::time::Duration;

use zoomvault_zoom::{RetryPolicy, ZoomClient, ZoomConfig};
use zoomvault_zoom_sim::{LoggedRequest, SimConfig, ZoomSim};

pub async fn start_sim(config: SimConfig) -> ZoomSim {
    let listen = "127.0.0.1:0".parse().expect("loopback address");
    ZoomSim::start(config, listen)
        .await
        .expect("simulator starts")
}

/// Client config for `sim`: its credentials, and retries fast enough that
/// a test which exercises them stays quick.
pub fn config_for(sim: &ZoomSim) -> ZoomConfig {
    let sim_config = sim.config();
    let mut config = ZoomConfig::new(
        sim_config.account_id.clone(),
        sim_config.client_id.clone(),
        sim_config.client_secret.clone(),
    );
    config.api_base = format!("{}/v2", sim.base_url());
    config.oauth_base = sim.base_url();
    config.retry = RetryPolicy {
        max_attempts: 4,
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(20),
        max_retry_after: Duration::from_secs(2),
    };
    config
}

pub fn client_for(sim: &ZoomSim) -> ZoomClient {
    ZoomClient::new(config_for(sim)).expect("client config is valid")
}

pub fn token_requests(log: &[LoggedRequest]) -> usize {
    log.iter().filter(|r| r.path == "/oauth/token").count()
}

pub fn requests_under<'a>(log: &'a [LoggedRequest], prefix: &str) -> Vec<&'a LoggedRequest> {
    log.iter().filter(|r| r.path.starts_with(prefix)).collect()
}
