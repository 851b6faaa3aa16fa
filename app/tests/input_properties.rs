//! Property tests on the API's input handling: any path segment yields
//! 200, 202, 304, 400 or 404, never a 5xx, never a panic.

use crate::support;

use proptest::prelude::*;
use support::{Stack, serve_api};

fn encode(segment: &str) -> String {
    segment.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

#[test]
fn any_path_segment_is_answered_without_a_server_error() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (api, client) = runtime.block_on(async {
        let stack = Stack::create(2, 4).await;
        (serve_api(stack.api_state(&[])).await, support::http())
    });
    let config = ProptestConfig { cases: 200, failure_persistence: None, ..ProptestConfig::default() };
    proptest!(config, |(segment in "\\PC{0,40}|[a-zA-Z]{2}|[a-zA-Z0-9]{1,4}", route in 0usize..4, raw in any::<bool>())| {
        let route = ["fetch-data", "view-data", "status", "nope"][route];
        let segment = if raw && segment.chars().all(|c| c.is_ascii_alphanumeric()) { segment.clone() } else { encode(&segment) };
        let status = runtime.block_on(async {
            client.get(format!("{api}/{route}/{segment}")).send().await.map(|r| r.status().as_u16())
        });
        let status = status.expect("the server answered");
        prop_assert!([200, 202, 304, 400, 404].contains(&status), "/{}/{} gave {}", route, segment, status);
    });
}
