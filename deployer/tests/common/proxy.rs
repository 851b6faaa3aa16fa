//! A recording proxy in front of moto: forwards every request unchanged and
//! keeps its body, for requests whose content moto accepts but never shows.

use std::sync::{Arc, Mutex};

/// Forwards every request to moto unchanged and records its body.
pub struct Proxy {
    /// Where to send requests.
    pub endpoint: String,
    bodies: Arc<Mutex<Vec<String>>>,
}

impl Proxy {
    pub fn start() -> Proxy {
        let bodies: Arc<Mutex<Vec<String>>> = Arc::default();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let moto = testkit::moto().endpoint.clone();
        let seen = bodies.clone();
        std::thread::spawn(move || {
            super::runtime().block_on(async move {
                let client = reqwest::Client::new();
                let app = axum::Router::new().fallback(
                    move |headers: axum::http::HeaderMap, body: String| {
                        let (client, moto, seen) = (client.clone(), moto.clone(), seen.clone());
                        async move {
                            seen.lock().unwrap().push(body.clone());
                            let mut request = client.post(&moto).body(body);
                            for (name, value) in &headers {
                                if name != "host" && name != "content-length" {
                                    request = request.header(name.as_str(), value.as_bytes());
                                }
                            }
                            let answer = request.send().await.unwrap();
                            let status = answer.status().as_u16();
                            let ctype = answer
                                .headers()
                                .get("content-type")
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or("text/xml")
                                .to_string();
                            let text = answer.text().await.unwrap();
                            (
                                axum::http::StatusCode::from_u16(status).unwrap(),
                                [("content-type", ctype)],
                                text,
                            )
                        }
                    },
                );
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                axum::serve(listener, app).await.unwrap();
            })
        });
        Proxy { endpoint, bodies }
    }

    /// The CreateChangeSet requests so far, decoded (`key=value` pairs).
    pub fn change_sets(&self) -> Vec<Vec<(String, String)>> {
        self.bodies
            .lock()
            .unwrap()
            .iter()
            .filter(|b| b.contains("Action=CreateChangeSet"))
            .map(|b| {
                let url = reqwest::Url::parse(&format!("http://form/?{b}")).unwrap();
                url.query_pairs()
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect()
            })
            .collect()
    }
}
