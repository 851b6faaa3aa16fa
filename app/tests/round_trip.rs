//! All 250 countries of the dataset round-trip: what view-data returns
//! equals, as JSON values, what the upstream served.

use crate::support;

use serde_json::Value;
use support::{Stack, dataset, get_json, http, serve_api, upstream};

#[tokio::test(flavor = "multi_thread")]
async fn every_country_round_trips() {
    let stack = Stack::create(5, 4).await;
    let up = upstream().await;
    let api = serve_api(stack.api_state(&[])).await;
    let worker = stack.worker(&up.url, &[]).await;
    let client = http();
    let countries = dataset();
    assert_eq!(countries.len(), 250);

    for country in &countries {
        let code = country["cca2"].as_str().unwrap();
        let res = client.post(format!("{api}/fetch-data/{}", code.to_lowercase())).send().await.unwrap();
        assert_eq!(res.status().as_u16(), 202, "{code}");
    }
    let handled = stack.poller().run_until_idle(&worker, 2).await.unwrap();
    assert_eq!(handled, 250);

    for country in &countries {
        let code = country["cca2"].as_str().unwrap();
        let res = client.get(format!("{api}/view-data/{code}")).send().await.unwrap();
        assert_eq!(res.status().as_u16(), 200, "{code}");
        let served: Value = res.json().await.unwrap();
        assert_eq!(&served, country, "{code} did not round-trip");
    }
    // The oddities survive: nulls, empty strings, decimals, user-assigned codes.
    let xk: Value = get_json(format!("{api}/view-data/xk")).await;
    assert_eq!(xk["status"], "user-assigned");
    assert_eq!(xk["ccn3"], "");
    let va: Value = get_json(format!("{api}/view-data/VA")).await;
    assert!(va["area"].is_f64(), "{}", va["area"]);
}
