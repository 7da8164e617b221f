//! Just enough of the Chrome DevTools protocol for the browser test: Chromium started headless with a debugging
//! port on loopback, a page target of the test's own and its WebSocket (RFC 6455: the handshake, masked client
//! frames, fragmented and long server frames), and commands answered by id.
//!
//! Chromium's own output goes to a log file beside the profile. If the page's WebSocket is lost while Chromium
//! runs on, the page is joined again and the command sent again; if Chromium is gone, the test fails with the
//! log's last lines.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::Duration;

use base64::Engine;
use serde_json::{Value, json};

pub struct Browser {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Browser {
    /// Chromium headless with a fresh profile in `profile`, its DevTools on an ephemeral loopback port, its output
    /// in `chromium.log` beside the profile.
    pub fn launch(binary: &str, profile: &Path) -> Browser {
        let _ = std::fs::remove_dir_all(profile);
        std::fs::create_dir_all(profile).unwrap();
        let log = profile.with_file_name("chromium.log");
        let output = std::fs::File::create(&log).expect("chromium's log file");
        let child = Command::new(binary)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",
                "--window-size=1280,1600",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("about:blank")
            .stdout(output.try_clone().unwrap())
            .stderr(output)
            .spawn()
            .expect("chromium starts");
        // Chromium writes the port it chose to DevToolsActivePort in the profile.
        let file = profile.join("DevToolsActivePort");
        let mut port = None;
        super::eventually(Duration::from_secs(30), || {
            port = std::fs::read_to_string(&file).ok().and_then(|t| t.lines().next()?.trim().parse().ok());
            port.is_some()
        });
        let port = port.unwrap_or_else(|| panic!("chromium's DevTools port{}", log_tail(&log)));
        Browser { child, port, log }
    }

    /// A new page target of the test's own (not the start-up tab, which Chromium may still replace), joined.
    pub fn page(&mut self) -> Page {
        let mut created = None;
        super::eventually(Duration::from_secs(15), || {
            created = serde_json::from_str::<Value>(&http("PUT", self.port, "/json/new?about:blank"))
                .ok()
                .and_then(|t| t["id"].as_str().map(str::to_owned));
            created.is_some()
        });
        let target = created.unwrap_or_else(|| panic!("a new page target{}", log_tail(&self.log)));
        let mut page = Page { port: self.port, target, log: self.log.clone(), socket: None, next_id: 1 };
        page.join();
        page
    }

    pub fn close(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A plain HTTP request without a body on loopback, the response's body.
fn http(method: &str, port: u16, path: &str) -> String {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else { return String::new() };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let _ = write!(stream, "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default()
}

/// The last lines of Chromium's log, for a failure's message.
fn log_tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    format!("; the end of {}:\n{}", log.display(), lines[lines.len().saturating_sub(30)..].join("\n"))
}

/// One page target and, while joined, its WebSocket.
pub struct Page {
    port: u16,
    target: String,
    log: PathBuf,
    socket: Option<Socket>,
    next_id: u64,
}

struct Socket {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Page {
    /// Joins the page target's WebSocket, waiting up to 15 s for DevTools to take it.
    fn join(&mut self) {
        let path = format!("/devtools/page/{}", self.target);
        let mut last = None;
        let joined = super::eventually(Duration::from_secs(15), || match Socket::connect(self.port, &path) {
            Ok(socket) => {
                self.socket = Some(socket);
                true
            }
            Err(e) => {
                last = Some(e);
                false
            }
        });
        assert!(joined, "page {} could not be joined: {last:?}{}", self.target, log_tail(&self.log));
    }

    /// Sends a command and answers its result (events in between are skipped). A WebSocket lost on the way is
    /// joined again and the command sent again, twice at most: every command the test sends can be repeated.
    pub fn call(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let command = json!({"id": id, "method": method, "params": params}).to_string();
        let mut attempts = 0;
        loop {
            let socket = self.socket.as_mut().expect("a joined page");
            match socket.exchange(&command, id) {
                Ok(message) => {
                    assert!(message.get("error").is_none(), "{method}: {message}");
                    return message["result"].clone();
                }
                Err(e) if attempts < 2 => {
                    attempts += 1;
                    eprintln!("the DevTools WebSocket was lost during {method} ({e}); joining the page again");
                    self.socket = None;
                    self.join();
                }
                Err(e) => panic!("{method}: the DevTools WebSocket was lost ({e}){}", log_tail(&self.log)),
            }
        }
    }

    pub fn navigate(&mut self, url: &str) {
        self.call("Page.navigate", json!({"url": url}));
    }

    /// The value of a JavaScript expression in the page.
    pub fn evaluate(&mut self, expression: &str) -> Value {
        let result = self.call("Runtime.evaluate", json!({"expression": expression, "returnByValue": true}));
        assert!(result.get("exceptionDetails").is_none(), "{expression}: {result}");
        result["result"]["value"].clone()
    }

    /// Waits up to 20 s for `condition` to be true in a fully loaded page.
    pub fn wait_for(&mut self, condition: &str) {
        let expression = format!("document.readyState === 'complete' && ({condition})");
        let held = super::eventually(Duration::from_secs(20), || self.evaluate(&expression) == Value::Bool(true));
        let location = self.evaluate("location.href");
        assert!(held, "timed out waiting for {condition} (at {location})");
    }

    /// The whole page as a PNG.
    pub fn screenshot(&mut self) -> Vec<u8> {
        let result = self.call("Page.captureScreenshot", json!({"format": "png", "captureBeyondViewport": true}));
        base64::engine::general_purpose::STANDARD.decode(result["data"].as_str().expect("image data")).expect("base64")
    }
}

impl Socket {
    /// The WebSocket handshake on `path`.
    fn connect(port: u16, path: &str) -> io::Result<Socket> {
        let stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_read_timeout(Some(Duration::from_secs(60)))?;
        let mut writer = stream.try_clone()?;
        write!(
            writer,
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )?;
        let mut reader = BufReader::new(stream);
        let mut status = String::new();
        reader.read_line(&mut status)?;
        if !status.contains(" 101 ") {
            return Err(io::Error::other(format!("WebSocket handshake refused: {}", status.trim_end())));
        }
        loop {
            let mut line = String::new();
            reader.read_line(&mut line)?;
            if line == "\r\n" || line.is_empty() {
                break;
            }
        }
        Ok(Socket { reader, writer })
    }

    /// Sends `command` and reads messages until the one answering `id`.
    fn exchange(&mut self, command: &str, id: u64) -> io::Result<Value> {
        self.send_text(command)?;
        loop {
            let message: Value = serde_json::from_str(&self.read_text()?).map_err(io::Error::other)?;
            if message["id"] == id {
                return Ok(message);
            }
        }
    }

    /// A text frame, masked as a client's must be.
    fn send_text(&mut self, text: &str) -> io::Result<()> {
        let payload = text.as_bytes();
        let mut frame = vec![0x81u8];
        match payload.len() {
            n if n < 126 => frame.push(0x80 | n as u8),
            n if n <= 0xffff => {
                frame.push(0x80 | 126);
                frame.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                frame.push(0x80 | 127);
                frame.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        let mask = [0x1f, 0x2e, 0x3d, 0x4c];
        frame.extend_from_slice(&mask);
        frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        self.writer.write_all(&frame)
    }

    /// The next whole text message (continuation frames joined; pings and pongs skipped).
    fn read_text(&mut self) -> io::Result<String> {
        let mut message = Vec::new();
        loop {
            let mut head = [0u8; 2];
            self.reader.read_exact(&mut head)?;
            let (fin, opcode) = (head[0] & 0x80 != 0, head[0] & 0x0f);
            let masked = head[1] & 0x80 != 0;
            let len = match head[1] & 0x7f {
                126 => {
                    let mut b = [0u8; 2];
                    self.reader.read_exact(&mut b)?;
                    u64::from(u16::from_be_bytes(b))
                }
                127 => {
                    let mut b = [0u8; 8];
                    self.reader.read_exact(&mut b)?;
                    u64::from_be_bytes(b)
                }
                n => u64::from(n),
            };
            let mut mask = [0u8; 4];
            if masked {
                self.reader.read_exact(&mut mask)?;
            }
            let mut payload = vec![0u8; len as usize];
            self.reader.read_exact(&mut payload)?;
            if masked {
                payload.iter_mut().enumerate().for_each(|(i, b)| *b ^= mask[i % 4]);
            }
            match opcode {
                0x8 => return Err(io::Error::new(io::ErrorKind::ConnectionAborted, "DevTools closed the connection")),
                0x9 | 0xa => continue,
                _ => message.extend_from_slice(&payload),
            }
            if fin {
                return String::from_utf8(message).map_err(io::Error::other);
            }
        }
    }
}
