//! One HTTP exchange with the tracking server, and what its answer means: MLflow's JSON, MLflow's
//! error (`error_code`, `message`), or something that is not MLflow at all (a web page, another
//! service's 404), each told apart so that the error says which mistake was made.

use std::time::Duration;

use serde_json::Value;

use crate::error::{one_line, MlflowError, Result};

/// How long to wait for a connection: a wrong host or a firewalled port should fail fast.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long to wait for an answer, and for each read of it; a log-batch of 1000 metrics into
/// a busy SQLite store takes well under a second, so this only catches a hung server.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(120);
/// The largest answer read: a page of 1000 runs with their params and tags is a few MB.
const ANSWER_LIMIT: u64 = 256 << 20;
/// How much of MLflow's error message an error repeats.
const MESSAGE_LIMIT: usize = 400;

/// The tracking server's address and an HTTP client for it.
#[derive(Debug, Clone)]
pub struct Http {
    /// The tracking URI without a trailing `/`, e.g. `http://127.0.0.1:5000`.
    base: String,
    agent: ureq::Agent,
}

impl Http {
    /// A client for the server at `uri` (`http://` or `https://`, optionally with a path under
    /// which the server is mounted); nothing is sent yet.
    pub fn new(uri: &str) -> Result<Self> {
        let base = check_uri(uri)?;
        let agent = ureq::Agent::config_builder()
            .timeout_connect(Some(CONNECT_TIMEOUT))
            .timeout_recv_response(Some(ANSWER_TIMEOUT))
            .timeout_per_read(Some(ANSWER_TIMEOUT))
            .http_status_as_error(false)
            .user_agent(concat!("cxr/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Ok(Self { base, agent })
    }

    /// The tracking URI, as errors name it.
    pub fn uri(&self) -> &str {
        &self.base
    }

    /// `GET <uri><path>?<query>`: the answer's JSON object.
    pub fn get(&self, path: &str, query: &[(&str, &str)]) -> Result<Value> {
        let mut request = self.agent.get(format!("{}{path}", self.base));
        for (key, value) in query {
            request = request.query(*key, *value);
        }
        self.answer(&format!("GET {path}"), request.call(), false)
    }

    /// `POST <uri><path>` with a JSON body: the answer's JSON object.
    pub fn post(&self, path: &str, body: &Value) -> Result<Value> {
        let request = self
            .agent
            .post(format!("{}{path}", self.base))
            .header("Content-Type", "application/json");
        self.answer(
            &format!("POST {path}"),
            request.send(body.to_string()),
            false,
        )
    }

    /// `PUT <uri><path>` with `bytes` as the body: the answer's JSON object (`{}` for an empty
    /// answer, which is what MLflow 3's artifact upload gives).
    pub fn put(&self, path: &str, content_type: &str, bytes: &[u8]) -> Result<Value> {
        let request = self
            .agent
            .put(format!("{}{path}", self.base))
            .header("Content-Type", content_type);
        self.answer(&format!("PUT {path}"), request.send(bytes), true)
    }

    fn answer(
        &self,
        endpoint: &str,
        sent: std::result::Result<ureq::http::Response<ureq::Body>, ureq::Error>,
        empty_ok: bool,
    ) -> Result<Value> {
        let unreachable = |detail: String| MlflowError::Unreachable {
            uri: self.base.clone(),
            endpoint: endpoint.to_string(),
            detail,
        };
        let mut response = sent.map_err(|e| unreachable(request_failure(e)))?;
        let status = response.status().as_u16();
        let html = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("html"));
        let body = response
            .body_mut()
            .with_config()
            .limit(ANSWER_LIMIT)
            .read_to_string()
            .map_err(|e| unreachable(format!("reading the answer: {}", request_failure(e))))?;
        if empty_ok && (200..300).contains(&status) && body.trim().is_empty() {
            return Ok(Value::Object(Default::default()));
        }
        classify(&self.base, endpoint, status, html, &body)
    }
}

/// The tracking URI without its trailing `/`, or why it cannot be one.
fn check_uri(uri: &str) -> Result<String> {
    let invalid = |reason: &str| MlflowError::InvalidUri {
        uri: uri.to_string(),
        reason: reason.to_string(),
    };
    let rest = uri
        .strip_prefix("http://")
        .or_else(|| uri.strip_prefix("https://"))
        .ok_or_else(|| {
            invalid(if uri.contains("://") || uri.starts_with('/') {
                "is not an http:// or https:// address (this command writes through the \
                 server's REST API, never to a store directly)"
            } else {
                "is not an http:// or https:// address"
            })
        })?;
    let host = rest.split('/').next().unwrap_or_default();
    if host.is_empty() || host.starts_with(':') {
        return Err(invalid("has no host"));
    }
    if rest.contains(['?', '#']) {
        return Err(invalid(
            "has a query or a #fragment (a page of the UI, not the server's address)",
        ));
    }
    Ok(uri.trim_end_matches('/').to_string())
}

/// What an answer means: MLflow's JSON object for a success, [`MlflowError::Api`] for MLflow's
/// own error, [`MlflowError::Server`] for a failure without it (5xx), [`MlflowError::NotMlflow`]
/// for anything else that answered.
fn classify(uri: &str, endpoint: &str, status: u16, html: bool, body: &str) -> Result<Value> {
    let json = if body.trim().is_empty() {
        None
    } else {
        serde_json::from_str::<Value>(body)
            .ok()
            .filter(Value::is_object)
    };
    if (200..300).contains(&status) {
        // MLflow's API answers `{}` where there is nothing to say (an upload aside, which
        // `Http::put` lets through): an empty 2xx is some other service.
        if let Some(json) = json {
            return Ok(json);
        }
    } else if let Some(code) = json
        .as_ref()
        .and_then(|j| j.get("error_code"))
        .and_then(Value::as_str)
    {
        let message = json
            .as_ref()
            .and_then(|j| j.get("message"))
            .and_then(Value::as_str)
            .unwrap_or_default();
        return Err(MlflowError::Api {
            uri: uri.to_string(),
            endpoint: endpoint.to_string(),
            status,
            error_code: code.to_string(),
            message: shorten(&one_line(message), MESSAGE_LIMIT),
        });
    }
    let what = if html || body.trim_start().starts_with('<') {
        "an HTML page".to_string()
    } else if body.trim().is_empty() {
        "an empty body".to_string()
    } else {
        format!("{:?}", shorten(&one_line(body), 80))
    };
    let (uri, endpoint) = (uri.to_string(), endpoint.to_string());
    Err(if status >= 500 {
        MlflowError::Server {
            uri,
            endpoint,
            status,
            what,
        }
    } else {
        MlflowError::NotMlflow {
            uri,
            endpoint,
            status,
            what,
        }
    })
}

/// A request that got no answer, in words.
fn request_failure(e: ureq::Error) -> String {
    match e {
        ureq::Error::Io(e) => one_line(e),
        ureq::Error::HostNotFound => "host not found".to_string(),
        ureq::Error::ConnectionFailed => "connection failed".to_string(),
        ureq::Error::Timeout(t) => format!("timed out ({t})"),
        e => one_line(e),
    }
}

/// `text`, cut to at most `limit` characters with a visible `...` when cut.
pub(crate) fn shorten(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        return text.to_string();
    }
    let kept: String = text.chars().take(limit.saturating_sub(3)).collect();
    format!("{kept}...")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;

    /// A server on a free 127.0.0.1 port that answers one request with `answer` (a whole HTTP
    /// response) and closes; returns its address.
    fn serve_once(answer: String) -> std::io::Result<String> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = format!("http://{}", listener.local_addr()?);
        std::thread::spawn(move || -> std::io::Result<()> {
            let (stream, _) = listener.accept()?;
            let mut reader = BufReader::new(stream.try_clone()?);
            let mut line = String::new();
            // The request's head ends with an empty line; a GET has no body.
            while reader.read_line(&mut line)? > 0 && line != "\r\n" {
                line.clear();
            }
            let mut stream = stream;
            stream.write_all(answer.as_bytes())
        });
        Ok(addr)
    }

    fn response(status: &str, content_type: &str, body: &str) -> String {
        format!(
            "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{body}",
            body.len()
        )
    }

    #[test]
    fn a_closed_port_is_unreachable_and_said_on_one_line() -> Result<(), Box<dyn std::error::Error>>
    {
        // Bind, note the port, close: nothing listens there any more.
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let uri = format!("http://127.0.0.1:{port}");
        let err = Http::new(&uri)?
            .get("/api/2.0/mlflow/experiments/get-by-name", &[])
            .err()
            .ok_or("a closed port answered")?;
        assert!(matches!(err, MlflowError::Unreachable { .. }), "{err:?}");
        let text = err.to_string();
        assert!(
            text.contains(&uri) && text.contains("get-by-name"),
            "{text}"
        );
        assert!(!text.contains('\n'), "{text}");
        Ok(())
    }

    #[test]
    fn a_web_page_404_is_not_mlflow() -> Result<(), Box<dyn std::error::Error>> {
        let page = "<!doctype html><html><body><h1>Not Found</h1></body></html>";
        let uri = serve_once(response("404 Not Found", "text/html", page))?;
        let err = Http::new(&format!("{uri}/"))?
            .get(
                "/api/2.0/mlflow/experiments/get-by-name",
                &[("experiment_name", "ci")],
            )
            .err()
            .ok_or("a web page passed for MLflow")?;
        match &err {
            MlflowError::NotMlflow { status, what, .. } => {
                assert_eq!((*status, what.as_str()), (404, "an HTML page"));
            }
            other => return Err(format!("expected NotMlflow, got {other:?}").into()),
        }
        let text = err.to_string();
        assert!(text.starts_with(&format!("{uri} is not an MLflow tracking server")));
        assert!(!text.contains('\n'), "{text}");
        Ok(())
    }

    #[test]
    fn mlflow_errors_keep_their_code_and_message() -> Result<(), Box<dyn std::error::Error>> {
        // The shape of MLflow's answer to a malformed request (mlflow/server/handlers.py).
        // (A line break in the message, escaped as JSON does, comes out on one line.)
        let body = r#"{"error_code": "INVALID_PARAMETER_VALUE", "message": "Missing value for\nrequired parameter 'experiment_id'."}"#;
        let uri = serve_once(response("400 BAD REQUEST", "application/json", body))?;
        let err = Http::new(&uri)?
            .post("/api/2.0/mlflow/runs/create", &serde_json::json!({}))
            .err()
            .ok_or("an error passed for success")?;
        let text = err.to_string();
        assert!(
            text.contains("POST /api/2.0/mlflow/runs/create failed with HTTP 400 INVALID_PARAMETER_VALUE: Missing value for required parameter"),
            "{text}"
        );
        Ok(())
    }

    #[test]
    fn answers_are_told_apart() {
        let ok = classify("u", "e", 200, false, r#"{"experiment_id": "1"}"#);
        assert!(matches!(ok, Ok(v) if v["experiment_id"] == "1"));
        assert!(classify("u", "e", 200, false, "{}").is_ok());
        for (status, html, body) in [
            (200, false, ""),
            (200, true, "<html></html>"),
            (200, false, "OK"),
            (404, false, r#"{"detail": "Not Found"}"#), // JSON, but not MLflow's
        ] {
            let got = classify("u", "e", status, html, body);
            assert!(
                matches!(got, Err(MlflowError::NotMlflow { .. })),
                "{body}: {got:?}"
            );
        }
        // What MLflow 3.17 answers when its artifact store fails, and a proxy whose server is down.
        for (status, html, body) in [
            (500, false, "Internal Server Error"),
            (502, true, "<html/>"),
        ] {
            let got = classify("u", "e", status, html, body);
            assert!(
                matches!(got, Err(MlflowError::Server { .. })),
                "{body}: {got:?}"
            );
        }
    }

    #[test]
    fn uris_that_cannot_be_a_server_are_refused() {
        for bad in [
            "127.0.0.1:5000",
            "file:///tmp/mlruns",
            "/tmp/mlruns",
            "sqlite:///mlflow.db",
            "http://",
            "http://:5000",
            "http://127.0.0.1:5000/#/experiments/1",
        ] {
            let err = Http::new(bad).err();
            assert!(
                matches!(&err, Some(MlflowError::InvalidUri { uri, .. }) if uri == bad),
                "{bad}: {err:?}"
            );
        }
        for (good, base) in [
            ("http://127.0.0.1:5000/", "http://127.0.0.1:5000"),
            (
                "https://mlflow.lab.example/tracking",
                "https://mlflow.lab.example/tracking",
            ),
        ] {
            assert_eq!(Http::new(good).map(|h| h.base).ok().as_deref(), Some(base));
        }
    }

    #[test]
    fn shortening_is_visible_and_keeps_characters_whole() {
        assert_eq!(shorten("abc", 3), "abc");
        assert_eq!(shorten("abcdef", 5), "ab...");
        assert_eq!(shorten("ééééé", 4), "é...");
    }
}
