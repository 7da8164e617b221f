//! A moto server (an AWS-compatible API for DynamoDB, SQS, S3 and CloudFormation) from the project's Python
//! environment, on a free loopback port, killed on drop. It runs through `tests/moto/server.py`, which changes
//! how moto rolls back a cancelled DynamoDB transaction (see there).

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct MotoServer {
    child: Child,
    pub endpoint: String,
}

/// The Python of the project's environment, which `scripts/python-env` creates with moto in it.
pub fn moto_python() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/python")
}

fn launcher() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("moto/server.py")
}

impl MotoServer {
    pub fn start() -> MotoServer {
        let bin = moto_python();
        assert!(bin.exists(), "{} is missing: run scripts/python-env", bin.display());
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(&bin)
            .arg(launcher())
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the moto server starts");
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(started.elapsed() < Duration::from_secs(30), "moto_server did not listen within 30 s");
            std::thread::sleep(Duration::from_millis(50));
        }
        MotoServer { child, endpoint: format!("http://127.0.0.1:{port}") }
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
