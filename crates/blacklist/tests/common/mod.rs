//! Redis servers for the integration tests: the shared one on 127.0.0.1:6379 under a key
//! prefix of each test's own, and private `redis-server` processes for tests that stop one.
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use warden_blacklist::RedisConfig;

/// The shared server that CI starts before the tests.
pub const SHARED_REDIS: &str = "redis://127.0.0.1:6379/0";

/// Returns a key prefix that no other test or run uses.
pub fn unique_prefix(test: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("warden-test:{test}:{}:{nanos}:", std::process::id())
}

/// A fresh key prefix on the shared server; its keys are deleted on drop.
pub struct SharedRedis {
    pub config: RedisConfig,
}

impl SharedRedis {
    /// Returns the URL of the shared server with this prefix, as `--store` takes it.
    pub fn url(&self) -> String {
        format!("{SHARED_REDIS}?prefix={}", self.config.key_prefix())
    }
}

impl Drop for SharedRedis {
    fn drop(&mut self) {
        delete_prefix(SHARED_REDIS, self.config.key_prefix());
    }
}

/// Settings for the shared server under a fresh prefix; fails the test if it is not running.
pub fn shared_redis(test: &str) -> SharedRedis {
    let client = redis::Client::open(SHARED_REDIS).unwrap();
    let reachable = client
        .get_connection_with_timeout(Duration::from_secs(2))
        .and_then(|mut connection| redis::cmd("PING").query::<String>(&mut connection));
    if let Err(error) = reachable {
        panic!(
            "this test needs redis-server on 127.0.0.1:6379 (start it with \
             `redis-server --daemonize yes --port 6379 --bind 127.0.0.1`): {error}"
        );
    }
    let config = RedisConfig::parse(SHARED_REDIS)
        .unwrap()
        .prefix(unique_prefix(test));
    SharedRedis { config }
}

/// Deletes every key under `prefix` on the server of `url`.
pub fn delete_prefix(url: &str, prefix: &str) {
    let Ok(client) = redis::Client::open(url) else {
        return;
    };
    let Ok(mut connection) = client.get_connection_with_timeout(Duration::from_secs(2)) else {
        return;
    };
    let mut cursor = 0_u64;
    loop {
        let reply: Result<(u64, Vec<String>), _> = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(format!("{prefix}*"))
            .arg("COUNT")
            .arg(1_000)
            .query(&mut connection);
        let Ok((next, keys)) = reply else {
            return;
        };
        for key in keys {
            let _: Result<i64, _> = redis::cmd("DEL").arg(key).query(&mut connection);
        }
        if next == 0 {
            return;
        }
        cursor = next;
    }
}

/// Runs a redis command on the server of `url` and returns its reply.
pub fn query<T: redis::FromRedisValue>(url: &str, command: &mut redis::Cmd) -> T {
    let client = redis::Client::open(url).unwrap();
    let mut connection = client
        .get_connection_with_timeout(Duration::from_secs(2))
        .unwrap();
    command.query(&mut connection).unwrap()
}

/// A `redis-server` of the test's own on a free loopback port, ended on drop.
pub struct OwnRedis {
    pub port: u16,
    dir: tempfile::TempDir,
    extra: Vec<String>,
    child: Option<Child>,
}

impl OwnRedis {
    /// Starts a server without persistence.
    pub fn start() -> OwnRedis {
        OwnRedis::start_with(&["--save", "", "--appendonly", "no"])
    }

    /// Starts a server with extra `redis-server` arguments.
    pub fn start_with(extra: &[&str]) -> OwnRedis {
        let port = free_port();
        let mut server = OwnRedis {
            port,
            dir: tempfile::tempdir().unwrap(),
            extra: extra.iter().map(|arg| (*arg).to_owned()).collect(),
            child: None,
        };
        server.restart();
        server
    }

    /// Returns the server's URL.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// Returns the server's data directory.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Starts the server again on the same port and waits until it answers.
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "the server is already running");
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .arg("--dir")
            .arg(self.dir.path())
            .args(&self.extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server must be installed (Debian package `redis-server`)");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        let client = redis::Client::open(self.url()).unwrap();
        loop {
            let ready = client
                .get_connection_with_timeout(Duration::from_millis(200))
                .and_then(|mut connection| redis::cmd("PING").query::<String>(&mut connection));
            if ready.is_ok() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "redis-server did not start: {ready:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills the server with SIGKILL and waits for it to exit.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Returns a loopback port that was free a moment ago.
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}
