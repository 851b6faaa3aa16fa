//! Lambda's GetAccountSettings at the HTTP boundary: moto does not implement
//! it, so this small local server answers it with a RECORDED response of the
//! documented shape (`GET /2016-08-19/account-settings/`, trimmed to what
//! the deployer reads), with numbers a test sets, and counts the calls. The
//! deployer reaches it through the standard `AWS_ENDPOINT_URL_LAMBDA`.

use std::sync::{Arc, Mutex};

use serde_json::json;

/// A running recorded Lambda endpoint.
pub struct RecordedLambda {
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    /// (ConcurrentExecutions, UnreservedConcurrentExecutions) it answers.
    pub concurrency: Arc<Mutex<(u32, u32)>>,
    /// The paths asked, in order.
    pub calls: Arc<Mutex<Vec<String>>>,
}

impl RecordedLambda {
    /// Starts the server, answering `limit` and `unreserved`.
    pub fn start(limit: u32, unreserved: u32) -> RecordedLambda {
        let concurrency = Arc::new(Mutex::new((limit, unreserved)));
        let calls: Arc<Mutex<Vec<String>>> = Arc::default();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
        let (c, k) = (concurrency.clone(), calls.clone());
        std::thread::spawn(move || {
            super::runtime().block_on(async move {
                let app = axum::Router::new().fallback(move |uri: axum::http::Uri| {
                    let (c, k) = (c.clone(), k.clone());
                    async move {
                        let path = uri.path().to_string();
                        k.lock().unwrap().push(path.clone());
                        if !path
                            .trim_end_matches('/')
                            .ends_with("/2016-08-19/account-settings")
                        {
                            return (
                                axum::http::StatusCode::NOT_FOUND,
                                json!({"Type": "User", "message": format!("not recorded: {path}")})
                                    .to_string(),
                            );
                        }
                        let (limit, unreserved) = *c.lock().unwrap();
                        (
                            axum::http::StatusCode::OK,
                            json!({
                                "AccountLimit": {
                                    "TotalCodeSize": 80_530_636_800u64,
                                    "CodeSizeUnzipped": 262_144_000,
                                    "CodeSizeZipped": 52_428_800,
                                    "ConcurrentExecutions": limit,
                                    "UnreservedConcurrentExecutions": unreserved
                                },
                                "AccountUsage": {"TotalCodeSize": 0, "FunctionCount": 0}
                            })
                            .to_string(),
                        )
                    }
                });
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                axum::serve(listener, app).await.expect("serve");
            });
        });
        RecordedLambda {
            endpoint,
            concurrency,
            calls,
        }
    }

    /// How many times GetAccountSettings was asked.
    pub fn settings_calls(&self) -> usize {
        self.calls.lock().unwrap().len()
    }
}
