//! The playground's tooling, shared by `examples/playground.rs` (build and
//! serve it) and `tests/browser.rs` (the same, then drive it in headless
//! Chromium): finding the tools, building the wasm module and its
//! JavaScript glue, a static file server, and a small WebDriver client.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The repository's root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Where the web crate builds: its own target directory, so that a build
/// from inside the root's `cargo test` waits on no lock the test holds.
pub fn web_target() -> PathBuf {
    root().join("target/web")
}

/// The first of `names` on `PATH`, or the path in `env` when it is set.
fn program(env: &str, names: &[&str]) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(env) {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

/// The programs the playground's build and tests need.
pub struct Tools {
    pub wasm_bindgen: PathBuf,
    pub test_runner: PathBuf,
    pub chromium: PathBuf,
    pub chromedriver: PathBuf,
}

/// The version of wasm-bindgen the web crate links: its command-line tools
/// must be exactly this one.
pub fn wasm_bindgen_version() -> Option<String> {
    let lock = std::fs::read_to_string(root().join("web/Cargo.lock")).ok()?;
    let at = lock.find("name = \"wasm-bindgen\"\n")?;
    let rest = &lock[at..];
    let line = rest.lines().nth(1)?;
    Some(
        line.strip_prefix("version = \"")?
            .trim_end_matches('"')
            .to_string(),
    )
}

/// The tools, or what is missing with how to install it. `browser`: the
/// tests' Chromium and chromedriver too (serving the page needs neither).
pub fn find_tools(browser: bool) -> Result<Tools, Vec<String>> {
    let mut missing = Vec::new();
    let version = wasm_bindgen_version().unwrap_or_else(|| "<see web/Cargo.lock>".into());
    let sysroot = Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    let has_target =
        sysroot.is_some_and(|s| s.join("lib/rustlib/wasm32-unknown-unknown/lib").is_dir());
    if !has_target {
        missing.push(
            "the Rust standard library for wasm32-unknown-unknown \
             (rustup target add wasm32-unknown-unknown)"
                .to_string(),
        );
    }
    let bindgen = program("WASM_BINDGEN", &["wasm-bindgen"]);
    let runner = program("WASM_BINDGEN_TEST_RUNNER", &["wasm-bindgen-test-runner"]);
    let installed = bindgen.as_ref().and_then(|b| {
        let out = Command::new(b).arg("--version").output().ok()?;
        Some(String::from_utf8_lossy(&out.stdout).trim().to_string())
    });
    let wanted = format!("wasm-bindgen {version}");
    if installed.as_deref() != Some(wanted.as_str()) || runner.is_none() {
        missing.push(format!(
            "{wanted} and its test runner (found: {}; cargo install wasm-bindgen-cli --version {version})",
            installed.as_deref().unwrap_or("none")
        ));
    }
    let chromium = program(
        "STILLGRAPH_CHROMIUM",
        &["chromium", "chromium-browser", "google-chrome"],
    );
    let chromedriver = program("CHROMEDRIVER", &["chromedriver"]);
    if browser && (chromium.is_none() || chromedriver.is_none()) {
        missing.push(
            "Chromium and chromedriver (Debian and Ubuntu: apt-get install chromium chromium-driver)"
                .to_string(),
        );
    }
    if !missing.is_empty() {
        return Err(missing);
    }
    Ok(Tools {
        wasm_bindgen: bindgen.expect("checked"),
        test_runner: runner.expect("checked"),
        chromium: chromium.unwrap_or_default(),
        chromedriver: chromedriver.unwrap_or_default(),
    })
}

fn run(command: &mut Command) -> Result<(), String> {
    let status = command.status().map_err(|e| format!("{command:?}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{command:?} failed: {status}"))
    }
}

/// Builds the wasm module and its JavaScript glue into `target/web/pkg/`
/// (`release`: optimised, for people; tests share the debug build of the
/// browser tests, whose dependencies are optimised anyway).
pub fn build(tools: &Tools, release: bool) -> Result<PathBuf, String> {
    let target = web_target();
    let mut cargo = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cargo
        .current_dir(root().join("web"))
        .args(["build", "--lib", "--target", "wasm32-unknown-unknown"])
        .env("CARGO_TARGET_DIR", &target);
    if release {
        cargo.arg("--release");
    }
    run(&mut cargo)?;
    let profile = if release { "release" } else { "debug" };
    let wasm = target.join(format!(
        "wasm32-unknown-unknown/{profile}/stillgraph_web.wasm"
    ));
    let pkg = target.join("pkg");
    run(Command::new(&tools.wasm_bindgen)
        .args(["--target", "web", "--no-typescript", "--out-dir"])
        .arg(&pkg)
        .arg(&wasm))?;
    Ok(pkg)
}

/// A static file server for the page on 127.0.0.1: `/` is `web/www/`,
/// `/pkg/` the built module, `/assets/` the repository's photos.
pub struct Server {
    pub addr: SocketAddr,
}

impl Server {
    pub fn start(pkg: PathBuf, port: u16) -> std::io::Result<Server> {
        let listener = TcpListener::bind(("127.0.0.1", port))?;
        let addr = listener.local_addr()?;
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let pkg = pkg.clone();
                std::thread::spawn(move || {
                    let _ = respond(stream, &pkg);
                });
            }
        });
        Ok(Server { addr })
    }

    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }
}

fn respond(mut stream: TcpStream, pkg: &Path) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request = String::new();
    reader.read_line(&mut request)?;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header.trim().is_empty() {
            break;
        }
    }
    let path = request.split_whitespace().nth(1).unwrap_or("/");
    let path = path.split(['?', '#']).next().unwrap_or("/");
    let file = local_file(path, pkg);
    let (status, kind, bytes) = match file.and_then(|f| std::fs::read(&f).ok().map(|b| (f, b))) {
        Some((f, bytes)) => ("200 OK", content_type(&f), bytes),
        None => ("404 Not Found", "text/plain", b"not found".to_vec()),
    };
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nConnection: close\r\n\r\n",
        bytes.len()
    )?;
    stream.write_all(&bytes)
}

/// The file a URL path names, never outside the three directories.
fn local_file(path: &str, pkg: &Path) -> Option<PathBuf> {
    let rel = Path::new(path.trim_start_matches('/'));
    if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
        return None;
    }
    let file = if let Ok(rest) = rel.strip_prefix("pkg") {
        pkg.join(rest)
    } else if let Ok(rest) = rel.strip_prefix("assets") {
        root().join("assets").join(rest)
    } else if rel.as_os_str().is_empty() {
        root().join("web/www/index.html")
    } else {
        root().join("web/www").join(rel)
    };
    file.is_file().then_some(file)
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript",
        Some("css") => "text/css",
        Some("wasm") => "application/wasm",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        _ => "application/octet-stream",
    }
}

/// Headless Chromium under chromedriver, through the W3C WebDriver API.
pub struct Browser {
    driver: Child,
    base: String,
    agent: ureq::Agent,
}

impl Browser {
    /// Starts chromedriver and a headless Chromium with WebGPU on (its
    /// software adapter, SwiftShader, where there is no GPU).
    pub fn launch(tools: &Tools) -> Result<Browser, String> {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| e.to_string())?
            .port();
        let driver = Command::new(&tools.chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("{}: {e}", tools.chromedriver.display()))?;
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(300)))
            .build()
            .into();
        let mut browser = Browser {
            driver,
            base: format!("http://127.0.0.1:{port}"),
            agent,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while browser
            .agent
            .get(format!("{}/status", browser.base))
            .call()
            .is_err()
        {
            if Instant::now() > deadline {
                return Err("chromedriver did not start within 30 s".into());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": tools.chromium,
                "args": ["headless=new", "no-sandbox", "enable-unsafe-webgpu",
                         "disable-background-networking", "disable-component-update",
                         "no-first-run", "window-size=1400,1000"],
            },
        }}});
        let session = browser.call("POST", "/session", Some(caps))?;
        let id = session["sessionId"]
            .as_str()
            .ok_or_else(|| format!("no session: {session}"))?;
        browser.base = format!("{}/session/{id}", browser.base);
        Ok(browser)
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
        let url = format!("{}{path}", self.base);
        let response = match (method, body) {
            ("POST", body) => self
                .agent
                .post(&url)
                .send_json(body.unwrap_or_else(|| json!({}))),
            ("DELETE", _) => self.agent.delete(&url).call(),
            _ => self.agent.get(&url).call(),
        };
        let mut response = response.map_err(|e| format!("{method} {path}: {e}"))?;
        let ok = response.status().is_success();
        let reply: Value = response
            .body_mut()
            .read_json()
            .map_err(|e| format!("{method} {path}: {e}"))?;
        if ok {
            Ok(reply["value"].clone())
        } else {
            Err(format!("{method} {path}: {}", reply["value"]))
        }
    }

    pub fn goto(&self, url: &str) -> Result<(), String> {
        self.call("POST", "/url", Some(json!({ "url": url })))
            .map(|_| ())
    }

    /// Runs `script` (a function body; `arguments` holds `args`) in the page.
    pub fn script(&self, script: &str, args: Value) -> Result<Value, String> {
        self.call(
            "POST",
            "/execute/sync",
            Some(json!({"script": script, "args": args})),
        )
    }

    /// Runs `script` until it calls its last argument, and gives what it
    /// passed; the page's async work (a fetch, a frame) finishes first.
    pub fn script_async(&self, script: &str, args: Value) -> Result<Value, String> {
        self.call(
            "POST",
            "/execute/async",
            Some(json!({"script": script, "args": args})),
        )
    }

    /// Puts a local file into a file `<input>` as a user picking it would.
    pub fn upload(&self, css: &str, file: &Path) -> Result<(), String> {
        let found = self.call(
            "POST",
            "/element",
            Some(json!({"using": "css selector", "value": css})),
        )?;
        let id = found
            .as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .ok_or_else(|| format!("no element {css}"))?
            .to_string();
        self.call(
            "POST",
            &format!("/element/{id}/value"),
            Some(json!({"text": file.display().to_string()})),
        )
        .map(|_| ())
    }

    /// The page's count of finished runs (`<body data-runs>`).
    pub fn runs(&self) -> Result<u64, String> {
        let n = self.script("return Number(document.body.dataset.runs);", json!([]))?;
        n.as_u64().ok_or_else(|| format!("data-runs is {n}"))
    }

    /// Waits until the page has finished a run after its `after`-th, with
    /// none pending, and gives the new count.
    pub fn wait_for_run(&self, after: u64, timeout: Duration) -> Result<u64, String> {
        self.wait_for(
            &format!(
                "Number(document.body.dataset.runs) > {after} && document.body.dataset.state === 'done'"
            ),
            timeout,
        )?;
        self.runs()
    }

    /// Sets the value of the element `css` and sends it `event` (bubbling),
    /// as a user's edit would; gives the value it took (a `<select>` takes
    /// none it has no option for).
    pub fn set_value(&self, css: &str, value: &str, event: &str) -> Result<Value, String> {
        self.script(
            "const e = document.querySelector(arguments[0]);
             e.value = arguments[1];
             e.dispatchEvent(new Event(arguments[2], { bubbles: true }));
             return e.value;",
            json!([css, value, event]),
        )
    }

    /// Waits until `condition` (a JavaScript expression) is true.
    pub fn wait_for(&self, condition: &str, timeout: Duration) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        loop {
            if self.script(&format!("return !!({condition});"), json!([]))? == json!(true) {
                return Ok(());
            }
            if Instant::now() > deadline {
                let state = self.script(
                    "return [document.body.dataset.state, document.getElementById('error').textContent];",
                    json!([]),
                )?;
                return Err(format!("timed out waiting for {condition}; page: {state}"));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.call("DELETE", "", None);
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
