//! Headless Debian Chromium driven through chromedriver with fantoccini.

use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use tempfile::TempDir;
use url::Url;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const DRIVER_TIMEOUT: Duration = Duration::from_secs(30);
const POLL: Duration = Duration::from_millis(50);

/// A chromedriver with one Chromium session. Prefer [`Browser::close`]; on drop, chromedriver and
/// the browsers it started are killed.
pub struct Browser {
    /// The WebDriver session.
    pub client: Client,
    // Fields drop in order: the processes are gone before their profile dir is removed.
    driver: Driver,
    dir: TempDir,
}

impl Browser {
    /// Starts chromedriver on a free loopback port and opens a headless Chromium session with a
    /// fresh profile. Panics with one line if Chromium or chromedriver is not installed.
    pub async fn start() -> Browser {
        for binary in [CHROMIUM, CHROMEDRIVER] {
            if !Path::new(binary).is_file() {
                panic!(
                    "{binary} not found: apt-get install -y chromium chromium-driver \
                     (scripts/test does it)"
                );
            }
        }
        let dir = tempfile::Builder::new()
            .prefix("gatehouse-browser-")
            .tempdir()
            .unwrap_or_else(|e| panic!("cannot create a temp dir for Chromium: {e}"));
        let log = File::create(dir.path().join("chromedriver.log"))
            .unwrap_or_else(|e| panic!("cannot create chromedriver.log: {e}"));
        let log_err = log.try_clone().unwrap_or_else(|e| panic!("cannot clone chromedriver.log: {e}"));
        let port = crate::free_port();
        // Its own process group, so that drop can kill Chromium along with chromedriver.
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot spawn {CHROMEDRIVER}: {e}"));
        let webdriver = format!("http://127.0.0.1:{port}");
        let mut driver = Driver(Some(driver));
        let client = match connect(&webdriver, dir.path()).await {
            Ok(client) => client,
            Err(e) => {
                driver.kill();
                let log = std::fs::read_to_string(dir.path().join("chromedriver.log")).unwrap_or_default();
                panic!("cannot start a Chromium session via chromedriver: {e}\n{log}");
            }
        };
        Browser { client, driver, dir }
    }

    /// Ends the session (Chromium quits), then stops chromedriver.
    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        self.driver.kill();
    }

    /// The fresh Chromium profile directory of this session.
    pub fn profile_dir(&self) -> std::path::PathBuf {
        self.dir.path().join("profile")
    }
}

/// The chromedriver process, in its own process group, killed (with the Chromium it started)
/// once, when dropped at the latest; `Browser` drops it before its temp dir.
struct Driver(Option<Child>);

impl Driver {
    /// SIGKILL to the whole process group, then reap chromedriver. `kill(1)` because the
    /// workspace forbids `unsafe` (no `libc::killpg`).
    fn kill(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", child.id())])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        self.kill();
    }
}

async fn connect(webdriver: &str, dir: &Path) -> Result<Client, String> {
    wait_for_driver(webdriver).await?;
    let profile = dir.join("profile");
    let capabilities = serde_json::json!({
        "goog:chromeOptions": {
            "binary": CHROMIUM,
            // Without the background-networking flags Chromium keeps calling home, which this
            // network refuses; as root it needs --no-sandbox.
            "args": [
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                format!("--user-data-dir={}", profile.display()),
            ],
        }
    });
    let serde_json::Value::Object(capabilities) = capabilities else {
        unreachable!("a JSON object literal");
    };
    ClientBuilder::new(HttpConnector::new())
        .capabilities(capabilities)
        .connect(webdriver)
        .await
        .map_err(|e| e.to_string())
}

/// Polls chromedriver's `/status` until it says ready.
async fn wait_for_driver(webdriver: &str) -> Result<(), String> {
    let http =
        reqwest::Client::builder().timeout(Duration::from_secs(2)).build().map_err(|e| e.to_string())?;
    let status = format!("{webdriver}/status");
    let deadline = Instant::now() + DRIVER_TIMEOUT;
    loop {
        if let Ok(response) = http.get(&status).send().await
            && let Ok(body) = response.json::<serde_json::Value>().await
            && body["value"]["ready"] == serde_json::Value::Bool(true)
        {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(format!("chromedriver not ready at {status} after {DRIVER_TIMEOUT:?}"));
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Waits until the browser's current URL starts with `prefix` and returns it; panics with the
/// URL it is on after `timeout`. For redirects that end outside the page, like an RP callback.
pub async fn wait_for_url_prefix(client: &Client, prefix: &str, timeout: Duration) -> Url {
    let deadline = Instant::now() + timeout;
    loop {
        let current =
            client.current_url().await.unwrap_or_else(|e| panic!("cannot read the browser's URL: {e}"));
        if current.as_str().starts_with(prefix) {
            return current;
        }
        if Instant::now() >= deadline {
            panic!("browser still at {current} after {timeout:?}, waiting for {prefix}");
        }
        tokio::time::sleep(POLL).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fantoccini::Locator;

    #[tokio::test]
    async fn chromium_renders_a_page() {
        let browser = Browser::start().await;
        browser.client.goto("data:text/html,<h1>hi</h1>").await.unwrap();
        let h1 = browser.client.find(Locator::Css("h1")).await.unwrap();
        assert_eq!(h1.text().await.unwrap(), "hi");
        let url = wait_for_url_prefix(&browser.client, "data:", Duration::from_secs(5)).await;
        assert!(url.as_str().starts_with("data:text/html"));
        browser.close().await;
    }
}
