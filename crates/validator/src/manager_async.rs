//! A token manager that refreshes in the background on tokio, with exponential backoff.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::clock::{Clock, SystemClock};
use crate::manager::{BoxError, ManagerError, refresh_due_at, unverified_expiry};

/// When the background task refreshes and how it retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefreshSchedule {
    /// Refresh this long before the token expires, but not before half of the token's life
    /// since `iat` has passed, so a short-lived token is not refreshed in a loop.
    pub threshold: Duration,
    /// Wait before the first retry after a failure; each further retry doubles it.
    pub initial_backoff: Duration,
    /// Maximum wait between retries.
    pub max_backoff: Duration,
}

impl Default for RefreshSchedule {
    /// Refreshes 5 minutes before expiry and retries after 1s, 2s, 4s, ... up to 1 minute.
    fn default() -> Self {
        RefreshSchedule {
            threshold: Duration::from_secs(300),
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(60),
        }
    }
}

/// Unix time that advances with tokio's clock, so a paused test clock also pauses it.
#[derive(Debug, Clone, Copy)]
struct TaskClock {
    unix_start: i64,
    start: Instant,
}

impl TaskClock {
    fn now(&self) -> i64 {
        let elapsed = i64::try_from(self.start.elapsed().as_secs()).unwrap_or(i64::MAX);
        self.unix_start.saturating_add(elapsed)
    }

    /// Returns the tokio instant at Unix time `at`, or now if `at` has passed.
    fn instant_at(&self, at: i64) -> Instant {
        let wait = u64::try_from(at.saturating_sub(self.now())).unwrap_or_default();
        Instant::now() + Duration::from_secs(wait)
    }
}

struct Shared {
    token: watch::Sender<String>,
    last_error: Mutex<Option<String>>,
}

/// Holds a token that a background tokio task refreshes before it expires.
///
/// New tokens come from a caller-supplied async function. Failures are retried with
/// exponential backoff until one succeeds or [`AsyncTokenManager::stop`] is called.
pub struct AsyncTokenManager {
    shared: Arc<Shared>,
    clock: TaskClock,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for AsyncTokenManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncTokenManager")
            .field("running", &self.task.is_some())
            .finish_non_exhaustive()
    }
}

impl AsyncTokenManager {
    /// Starts managing `token` on the current tokio runtime with the system clock.
    /// Outside a runtime it returns [`ManagerError::NoRuntime`].
    pub fn spawn<F, Fut>(
        token: String,
        schedule: RefreshSchedule,
        refresh: F,
    ) -> Result<Self, ManagerError>
    where
        F: Fn(String) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<String, BoxError>> + Send + 'static,
    {
        Self::spawn_with_clock(token, schedule, refresh, &SystemClock)
    }

    /// Starts managing `token`; `clock` gives the Unix time at start, after which time
    /// advances with tokio's clock.
    pub fn spawn_with_clock<F, Fut>(
        token: String,
        schedule: RefreshSchedule,
        refresh: F,
        clock: &dyn Clock,
    ) -> Result<Self, ManagerError>
    where
        F: Fn(String) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<String, BoxError>> + Send + 'static,
    {
        unverified_expiry(&token)?;
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| ManagerError::NoRuntime)?;
        let clock = TaskClock {
            unix_start: clock.now(),
            start: Instant::now(),
        };
        let shared = Arc::new(Shared {
            token: watch::Sender::new(token),
            last_error: Mutex::new(None),
        });
        let (stop, stopped) = watch::channel(false);
        let task = runtime.spawn(run(shared.clone(), clock, schedule, refresh, stopped));
        Ok(AsyncTokenManager {
            shared,
            clock,
            stop,
            task: Some(task),
        })
    }

    /// Returns the current token while it has not expired; after that, an error with the
    /// last refresh failure, never the expired token.
    pub fn valid_token(&self) -> Result<String, ManagerError> {
        let token = self.shared.token.borrow().clone();
        let expires_at = unverified_expiry(&token)?;
        if self.clock.now() < expires_at {
            return Ok(token);
        }
        let last_error = self
            .shared
            .last_error
            .lock()
            .ok()
            .and_then(|error| error.clone());
        Err(ManagerError::Expired {
            expired_at: expires_at,
            last_error,
        })
    }

    /// Returns a receiver that is notified of each new token as it is stored.
    pub fn subscribe(&self) -> watch::Receiver<String> {
        self.shared.token.subscribe()
    }

    /// Stops the background task and waits for it to end. A refresh under way is dropped.
    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take()
            && let Err(error) = task.await
        {
            tracing::warn!(%error, "token refresh task ended abnormally");
        }
    }
}

impl Drop for AsyncTokenManager {
    /// Tells the background task to stop; it ends at its next await point.
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

async fn run<F, Fut>(
    shared: Arc<Shared>,
    clock: TaskClock,
    schedule: RefreshSchedule,
    refresh: F,
    mut stopped: watch::Receiver<bool>,
) where
    F: Fn(String) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<String, BoxError>> + Send + 'static,
{
    let threshold = i64::try_from(schedule.threshold.as_secs()).unwrap_or(i64::MAX);
    loop {
        let token = shared.token.borrow().clone();
        let due_at = refresh_due_at(&token, threshold).unwrap_or(i64::MIN);
        if !sleep_until(clock.instant_at(due_at), &mut stopped).await {
            return;
        }
        let mut backoff = schedule.initial_backoff;
        let mut attempt: u32 = 1;
        loop {
            let result = tokio::select! {
                result = refresh(token.clone()) => result,
                _ = stopped.changed() => return,
            };
            match accept(result, clock.now()) {
                Ok(fresh) => {
                    tracing::info!(attempt, "token refreshed");
                    if let Ok(mut error) = shared.last_error.lock() {
                        *error = None;
                    }
                    shared.token.send_replace(fresh);
                    break;
                }
                Err(error) => {
                    tracing::warn!(attempt, retry_in = ?backoff, %error, "token refresh failed");
                    if let Ok(mut last) = shared.last_error.lock() {
                        *last = Some(error);
                    }
                }
            }
            if !sleep_until(Instant::now() + backoff, &mut stopped).await {
                return;
            }
            backoff = backoff.saturating_mul(2).min(schedule.max_backoff);
            attempt = attempt.saturating_add(1);
        }
    }
}

/// Accepts a refreshed token that carries an `exp` still ahead of `now`.
fn accept(result: Result<String, BoxError>, now: i64) -> Result<String, String> {
    let fresh = result.map_err(|error| error.to_string())?;
    let expires_at = unverified_expiry(&fresh).map_err(|error| error.to_string())?;
    if expires_at <= now {
        return Err("the refreshed token has already expired".to_owned());
    }
    Ok(fresh)
}

/// Sleeps until `deadline`; returns false when a stop was requested first.
async fn sleep_until(deadline: Instant, stopped: &mut watch::Receiver<bool>) -> bool {
    if *stopped.borrow() {
        return false;
    }
    tokio::select! {
        () = tokio::time::sleep_until(deadline) => true,
        _ = stopped.changed() => false,
    }
}
