//! Where Rego runs. A Rego module is a program its author wrote: one builtin call can build a
//! value as large as its arguments ask (`sprintf("%0999999999d", [1])`, a deep structure shared
//! by reference then serialised or compared whole) and one step can run for hours, out of reach
//! of the interpreter's time limit, which is checked only between steps. Inside the server
//! neither can be stopped, so evaluations run in worker processes: each worker limits its own
//! address space ([`WORKER_MEMORY`]) and is killed when an answer takes longer than
//! [`WORKER_DEADLINE`]; a worker that dies or is killed answers `fail`, and the next evaluation
//! starts a new one. [`Rego::in_process`] keeps evaluation in the calling process (unit tests,
//! benchmarks), bounded only by the interpreter's time limit.

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The address space a worker may use; an evaluation that needs more ends its worker and fails.
pub const WORKER_MEMORY: u64 = 512 * 1024 * 1024;
/// How long an evaluation may take, the round trip to its worker included, before the worker is
/// killed and the evaluation fails. Well above [`REGO_TIME_LIMIT`], which stops ordinary
/// runaway policies inside the worker with a clear reason.
/// ([`crate::REGO_TIME_LIMIT`])
pub const WORKER_DEADLINE: Duration = Duration::from_millis(1000);
/// The argument that makes the program a policy worker (`castellan policy-worker`).
const WORKER_COMMAND: &str = "policy-worker";
/// Rego engines a worker keeps compiled; past this it starts over.
const WORKER_CACHE: usize = 1024;

/// How Rego policies are evaluated: in worker processes (the server) or in this process.
#[derive(Clone, Debug, Default)]
pub struct Rego(Option<Arc<Pool>>);

impl Rego {
    /// Evaluates in this process, bounded only by the interpreter's time limit: for tests and
    /// benchmarks of policies the caller wrote.
    pub fn in_process() -> Self {
        Self(None)
    }

    /// Evaluates in up to `workers` processes started as `program policy-worker`, with an
    /// empty environment.
    pub fn isolated(program: PathBuf, workers: usize) -> Self {
        let slots = (0..workers.max(1)).map(|_| Mutex::new(Slot::default())).collect();
        Self(Some(Arc::new(Pool {
            program,
            slots,
            next: AtomicUsize::new(0),
            keys: AtomicU64::new(1),
        })))
    }

    pub(crate) fn pool(&self) -> Option<&Arc<Pool>> {
        self.0.as_ref()
    }
}

/// A compiled Rego policy as evaluation needs it.
#[derive(Debug)]
pub(crate) enum RegoBody {
    Local(Box<regorus::Engine>),
    Isolated {
        pool: Arc<Pool>,
        key: u64,
        definition: Arc<str>,
    },
}

#[derive(Debug)]
pub(crate) struct Pool {
    program: PathBuf,
    slots: Vec<Mutex<Slot>>,
    next: AtomicUsize,
    /// The key of the next compiled definition. Workers are shared by every tenant, so a key
    /// is given, never derived from the text: no definition can be taken for another's.
    keys: AtomicU64,
}

#[derive(Debug, Default)]
struct Slot {
    worker: Option<Worker>,
}

#[derive(Debug)]
struct Worker {
    child: Child,
    stdin: ChildStdin,
    answers: Receiver<String>,
    /// Definitions this worker has compiled (it is sent each one once).
    known: HashSet<u64>,
}

#[derive(Serialize, Deserialize)]
struct Ask {
    key: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    definition: Option<String>,
    input: Value,
}

/// A worker's answer: the rule's outcome, or why there is none.
#[derive(Serialize, Deserialize, Debug, PartialEq)]
pub(crate) enum Answer {
    Allow(bool),
    /// The evaluation stopped (time limit, a runtime error).
    Stopped(String),
    /// The worker does not have this definition compiled (it started over): send it again.
    Unknown,
}

impl Pool {
    /// A key no other compiled definition of this pool has.
    pub(crate) fn new_key(&self) -> u64 {
        self.keys.fetch_add(1, Ordering::Relaxed)
    }

    fn slot(&self) -> MutexGuard<'_, Slot> {
        let n = self.slots.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        for i in 0..n {
            if let Ok(s) = self.slots[(start + i) % n].try_lock() {
                return s;
            }
        }
        self.slots[start % n].lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Evaluates `definition` on `input` in a worker; every failure of the worker is an answer.
    /// On a multi-threaded tokio runtime the wait (up to [`WORKER_DEADLINE`]) happens after the
    /// thread's other tasks were handed to the other threads, so a slow policy delays only the
    /// request that evaluates it.
    pub(crate) fn evaluate(&self, key: u64, definition: &str, input: Value) -> Answer {
        let multi_threaded = tokio::runtime::Handle::try_current()
            .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
        if multi_threaded {
            tokio::task::block_in_place(|| self.evaluate_here(key, definition, input))
        } else {
            self.evaluate_here(key, definition, input)
        }
    }

    fn evaluate_here(&self, key: u64, definition: &str, input: Value) -> Answer {
        let mut slot = self.slot();
        let mut ask = Ask {
            key,
            definition: None,
            input,
        };
        for _ in 0..2 {
            let worker = match &mut slot.worker {
                Some(w) => w,
                None => match self.start() {
                    Ok(w) => slot.worker.insert(w),
                    Err(e) => return Answer::Stopped(format!("the policy worker could not start: {e}")),
                },
            };
            if !worker.known.contains(&key) {
                ask.definition = Some(definition.to_owned());
            }
            match worker.ask(&ask) {
                Ok(Answer::Unknown) => {
                    worker.known.clear();
                    continue;
                }
                Ok(answer) => {
                    worker.known.insert(key);
                    return answer;
                }
                Err(reason) => {
                    if let Some(mut w) = slot.worker.take() {
                        let _ = w.child.kill();
                        let _ = w.child.wait();
                    }
                    return Answer::Stopped(reason);
                }
            }
        }
        Answer::Stopped("the policy worker did not keep the policy".into())
    }

    fn start(&self) -> std::io::Result<Worker> {
        let mut child = Command::new(&self.program)
            .arg(WORKER_COMMAND)
            .env_clear()
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            let _ = child.kill();
            return Err(std::io::Error::other("no pipes to the worker"));
        };
        let (tx, answers) = channel();
        std::thread::Builder::new()
            .name("policy-worker-reader".into())
            .spawn(move || {
                for line in BufReader::new(stdout).lines() {
                    let Ok(line) = line else { break };
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            })?;
        Ok(Worker {
            child,
            stdin,
            answers,
            known: HashSet::new(),
        })
    }
}

impl Worker {
    fn ask(&mut self, ask: &Ask) -> Result<Answer, String> {
        let mut line = serde_json::to_vec(ask).map_err(|e| e.to_string())?;
        line.push(b'\n');
        self.stdin
            .write_all(&line)
            .and_then(|()| self.stdin.flush())
            .map_err(|_| "the policy worker stopped".to_owned())?;
        match self.answers.recv_timeout(WORKER_DEADLINE) {
            Ok(line) => serde_json::from_str(&line).map_err(|_| "the policy worker answered nonsense".to_owned()),
            Err(RecvTimeoutError::Timeout) => Err(format!(
                "evaluation stopped: it took longer than {} ms",
                WORKER_DEADLINE.as_millis()
            )),
            Err(RecvTimeoutError::Disconnected) => Err(format!(
                "evaluation stopped: it needed more than {} MiB",
                WORKER_MEMORY >> 20
            )),
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The worker's side (`castellan policy-worker`): limits its own memory, then answers one line
/// of JSON per line of JSON on stdin until stdin closes.
pub fn serve_worker() -> std::io::Result<()> {
    limit_memory(WORKER_MEMORY)?;
    let mut engines: std::collections::HashMap<u64, regorus::Engine> = std::collections::HashMap::new();
    let stdin = std::io::stdin().lock();
    let mut stdout = std::io::stdout().lock();
    for line in stdin.lines() {
        let line = line?;
        let answer = match serde_json::from_str::<Ask>(&line) {
            Err(e) => Answer::Stopped(format!("unreadable request: {e}")),
            Ok(ask) => {
                if let Some(d) = &ask.definition {
                    if engines.len() >= WORKER_CACHE {
                        engines.clear();
                    }
                    match crate::rego::parse_rego(d) {
                        Ok(engine) => {
                            engines.insert(ask.key, engine);
                        }
                        Err(e) => {
                            write_answer(&mut stdout, &Answer::Stopped(e.reason))?;
                            continue;
                        }
                    }
                }
                match engines.get(&ask.key) {
                    Some(engine) => run(engine, ask.input),
                    None => Answer::Unknown,
                }
            }
        };
        write_answer(&mut stdout, &answer)?;
    }
    Ok(())
}

fn write_answer(out: &mut impl Write, answer: &Answer) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(answer)?;
    line.push(b'\n');
    out.write_all(&line)?;
    out.flush()
}

/// One evaluation of `data.castellan.allow` on `input`, in this process.
pub(crate) fn run(engine: &regorus::Engine, input: Value) -> Answer {
    let mut e = engine.clone();
    e.set_input(regorus::Value::from(input));
    match e.eval_rule(crate::REGO_RULE.into()) {
        Ok(regorus::Value::Bool(b)) => Answer::Allow(b),
        Ok(_) => Answer::Allow(false),
        Err(e) => Answer::Stopped(format!("evaluation stopped: {e}")),
    }
}

#[cfg(target_os = "linux")]
fn limit_memory(bytes: u64) -> std::io::Result<()> {
    use rustix::process::{Resource, Rlimit, setrlimit};
    let limit = Rlimit {
        current: Some(bytes),
        maximum: Some(bytes),
    };
    setrlimit(Resource::As, limit).map_err(std::io::Error::from)
}

#[cfg(not(target_os = "linux"))]
fn limit_memory(_bytes: u64) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_worker_that_cannot_start_fails_the_evaluation() {
        let rego = Rego::isolated(PathBuf::from("/nonexistent/castellan"), 1);
        let answer = rego
            .pool()
            .unwrap()
            .evaluate(1, "package castellan\nallow := true\n", Value::Null);
        assert!(
            matches!(&answer, Answer::Stopped(r) if r.contains("could not start")),
            "{answer:?}"
        );
    }
}
