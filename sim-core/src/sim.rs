//! The simulation: nodes, the engine state, checks and the run loop.
//!
//! One step is one event taken from the queue and handed to its node (a start, a
//! delivery, a timer, a link notification, a call) or applied to the world (a fault).
//! After every step the trace hash is updated and every check runs. Events that turn
//! out to be moot (a cancelled timer, a message to a crashed node, a message cut in
//! flight) are not steps: they are counted and skipped.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::check::{CheckKind, Checks, Invariant, Property, Violation, Window};
use crate::clock::Clock;
use crate::context::{NodeContext, NodeEnv};
use crate::core::{Core, Event};
use crate::disk::Disk;
use crate::fault::{Fault, FaultSchedule};
use crate::interceptor::{Chain, Envelope, Installed, Interceptor, InterceptorContext, Verdict};
use crate::network::{Network, NetworkConfig};
use crate::node::{Context, Node, NodeId, NodeStatus};
use crate::outcome::{Cancel, Limits, Outcome, RunUntilError, Stats, Stop};
use crate::queue::{EventQueue, TieBreak};
use crate::rng::{Choices, SimRng};
use crate::time::{SimDuration, SimTime};
use crate::timer::TimerSlots;
use crate::trace::{StepKind, Trace, TraceRecord};
use crate::world::World;

/// Everything that shapes a run besides its nodes, checks and faults.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SimConfig {
    /// The one seed every random choice derives from.
    pub seed: u64,
    /// The network: topology and link behaviour.
    pub network: NetworkConfig,
    /// How same-time events are ordered.
    pub tie_break: TieBreak,
    /// Bounds on steps and virtual time.
    pub limits: Limits,
    /// Keep a full [`TraceRecord`] of every step (slower; for replay and debugging).
    pub record_trace: bool,
    /// Choice mode: a tape that decides the run's random draws before the seed does
    /// (see [`Choices`]); each simulation reads it from the start. For fuzzers; not
    /// part of a serialized config.
    #[serde(skip)]
    pub choices: Option<Arc<Choices>>,
    /// A token that stops the run from outside (see [`Cancel`]); not part of a
    /// serialized config.
    #[serde(skip)]
    pub cancel: Option<Cancel>,
    /// Nodes start at a time drawn from `0..=start_spread` after they are added (each
    /// from its own stream, `"start/<id>"`), instead of all at once in lockstep: timers
    /// that would fire together on every node are out of phase, as on machines booted
    /// one after another. Until its start a node is down: messages to it are lost.
    /// Zero (the default) starts every node at once.
    #[serde(default)]
    pub start_spread: SimDuration,
}

impl SimConfig {
    /// The default configuration with the given seed.
    pub fn new(seed: u64) -> SimConfig {
        SimConfig {
            seed,
            ..SimConfig::default()
        }
    }

    /// Checks the configuration, returning what is wrong in words.
    pub fn validate(&self) -> Result<(), String> {
        self.network
            .default_link
            .validate()
            .map_err(|e| format!("default link: {e}"))?;
        for link in &self.network.links {
            link.config
                .validate()
                .map_err(|e| format!("link {} -> {}: {e}", link.source, link.target))?;
        }
        Ok(())
    }
}

/// What builds a node: called when it is added and again after every crash.
type Factory<N> = Box<dyn FnMut(NodeId) -> N>;

/// A call into a node, run as a step.
type Call<N> = Box<dyn FnOnce(&mut N, &mut Context<'_, N>)>;

/// One node's place in the simulation: its state (if running) and what survives it.
pub(crate) struct Slot<N: Node> {
    pub(crate) node: Option<N>,
    pub(crate) status: NodeStatus,
    pub(crate) env: NodeEnv,
    /// Events that arrived while the node was paused, in arrival order.
    pub(crate) deferred: Vec<Event<N::Message, N::Timer>>,
    /// Added with a spread start that has not come yet: down, with no state, and not
    /// restartable until it starts.
    pub(crate) unborn: bool,
    pub(crate) factory: Factory<N>,
}

/// The rolling trace hash and the optional full record.
#[derive(Debug)]
struct TraceState {
    hash: u64,
    /// `records.is_some()`: one test on the hot path.
    detailed: bool,
    records: Option<Vec<TraceRecord>>,
    last_kind: StepKind,
    last_node: Option<NodeId>,
}

/// What the last step was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StepInfo {
    /// The step number, from 1.
    pub step: u64,
    /// Its true virtual time.
    pub time: SimTime,
    /// What kind of step it was.
    pub kind: StepKind,
    /// The node it happened to, if any.
    pub node: Option<NodeId>,
}

/// A deterministic simulation of nodes of type `N`.
///
/// See the [crate documentation](crate) for a worked example.
pub struct Sim<N: Node> {
    seed: u64,
    /// The choice-mode tape, if any, shared by every stream of the run.
    choices: Option<Arc<Choices>>,
    slots: Vec<Slot<N>>,
    core: Core<N::Message, N::Timer, N::Observation>,
    checks: Checks<N>,
    faults: Vec<Option<Fault>>,
    calls: Vec<Option<Call<N>>>,
    trace: TraceState,
    stats: Stats,
    limits: Limits,
    /// The step at which the run next looks at its step limit and cancel token.
    poll_at: u64,
    cancel: Option<Cancel>,
    stopped: Option<Stop>,
    /// Whether a tracing subscriber wants DEBUG spans (refreshed by every run call).
    spans: bool,
    /// See [`SimConfig::start_spread`].
    start_spread: SimDuration,
}

/// The step after `steps` at which a run must next look at its limits: the step limit,
/// or sooner if it holds a cancel token.
fn next_poll(steps: u64, max_steps: u64, cancellable: bool) -> u64 {
    if cancellable {
        max_steps.min(steps.saturating_add(Cancel::POLL_STEPS))
    } else {
        max_steps
    }
}

impl<N: Node> fmt::Debug for Sim<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sim")
            .field("seed", &self.seed)
            .field("now", &self.core.now)
            .field("nodes", &self.slots.len())
            .field("steps", &self.stats.steps)
            .field("queued", &self.core.queue.len())
            .field("stopped", &self.stopped)
            .finish()
    }
}

impl<N: Node> Sim<N> {
    /// A simulation with the default configuration and the given seed.
    pub fn with_seed(seed: u64) -> Sim<N> {
        Sim::new(SimConfig::new(seed))
    }

    /// A simulation with the given configuration. Panics if it does not validate
    /// (check user input with [`SimConfig::validate`] first).
    pub fn new(config: SimConfig) -> Sim<N> {
        if let Err(error) = config.validate() {
            panic!("invalid simulation config: {error}");
        }
        let seed = config.seed;
        let choices = config.choices.as_ref().map(|tape| tape.rewound());
        let stream = |label| SimRng::new(seed, label).with_choices(choices.clone());
        let queue = EventQueue::new(config.tie_break, stream("tie-break"));
        let mut network = Network::new(&config.network, stream("network"));
        network.set_sequence_mask(queue.sequence_mask());
        let core = Core {
            now: SimTime::ZERO,
            queue,
            network,
            chain: Chain::new(),
            timers: TimerSlots::default(),
            observations: Vec::new(),
            events: config.record_trace.then(Vec::new),
            node_count: 0,
            held: Vec::new(),
            epoch: 0,
            message_kind: N::message_kind,
        };
        Sim {
            seed,
            choices,
            slots: Vec::new(),
            core,
            checks: Checks::new(),
            faults: Vec::new(),
            calls: Vec::new(),
            trace: TraceState {
                hash: crate::trace::TRACE_HASH_INIT,
                detailed: config.record_trace,
                records: config.record_trace.then(Vec::new),
                last_kind: StepKind::Start,
                last_node: None,
            },
            stats: Stats::default(),
            limits: config.limits,
            poll_at: next_poll(0, config.limits.max_steps, config.cancel.is_some()),
            cancel: config.cancel,
            start_spread: config.start_spread,
            stopped: None,
            spans: false,
        }
    }

    /// Adds a node built by `factory`, which is called now and again to rebuild the
    /// node after each crash. The node starts at the current time, or, with a
    /// [`SimConfig::start_spread`], at a seeded time within it (down until then, and
    /// built only then).
    pub fn add_node(&mut self, mut factory: impl FnMut(NodeId) -> N + 'static) -> NodeId {
        let id = self.core.network.add_node();
        assert_eq!(
            id.index(),
            self.slots.len(),
            "topology and slots agree on ids"
        );
        let delay = if self.start_spread == SimDuration::ZERO {
            SimDuration::ZERO
        } else {
            let spread = self.start_spread.as_nanos();
            SimDuration::from_nanos(self.rng(&format!("start/{}", id.0)).between(0, spread))
        };
        let (node, status) = if delay == SimDuration::ZERO {
            (Some(factory(id)), NodeStatus::Up)
        } else {
            (None, NodeStatus::Down)
        };
        self.slots.push(Slot {
            node,
            status,
            unborn: delay > SimDuration::ZERO,
            env: NodeEnv {
                id,
                incarnation: 0,
                rng: self.rng(&format!("node/{}", id.0)),
                disk: Disk::new(self.rng(&format!("disk/{}", id.0))),
                clock: Clock::PERFECT,
            },
            deferred: Vec::new(),
            factory: Box::new(factory),
        });
        self.core.node_count += 1;
        self.core.epoch += 1;
        self.core
            .queue
            .push(self.core.now + delay, Event::Start { node: id });
        id
    }

    /// Appends a closure to the interceptor chain; see [`Sim::add_interceptor`].
    pub fn intercept(
        &mut self,
        name: &str,
        interceptor: impl FnMut(
            &mut InterceptorContext<'_, N::Message>,
            &Envelope<N::Message>,
        ) -> Verdict<N::Message>
        + 'static,
    ) {
        self.add_interceptor(name, interceptor);
    }

    /// Appends `interceptor` to the chain every message passes through. Its random
    /// stream is named after it (`"interceptor/<name>"`).
    pub fn add_interceptor(
        &mut self,
        name: &str,
        interceptor: impl Interceptor<N::Message> + 'static,
    ) {
        self.core.chain.installed.push(Installed {
            name: name.to_string(),
            rng: self.rng(&format!("interceptor/{name}")),
            interceptor: Box::new(interceptor),
        });
    }

    /// Registers a safety check, run after every step: `Err(message)` stops the run.
    pub fn always(
        &mut self,
        name: &str,
        invariant: impl FnMut(&World<'_, N>) -> Result<(), String> + 'static,
    ) {
        self.add_invariant(name, invariant);
    }

    /// Registers a reusable safety checker (a type implementing [`Invariant`]).
    pub fn add_invariant(&mut self, name: &str, invariant: impl Invariant<N> + 'static) {
        self.checks.add_always(name, Box::new(invariant));
    }

    /// Registers a liveness check: `property` must hold after some step no later than
    /// `deadline`.
    pub fn eventually(
        &mut self,
        name: &str,
        deadline: SimTime,
        property: impl FnMut(&World<'_, N>) -> bool + 'static,
    ) {
        assert!(
            deadline >= self.core.now,
            "eventually check `{name}` has a deadline ({deadline}) in the past"
        );
        self.checks
            .add_eventually(name, deadline, Box::new(property));
    }

    /// Registers a windowed liveness check: whenever `condition` has held for
    /// `window.after` without a break, `property` may not stay false for longer than
    /// `window.within`. It is owed again each time it turns false while the condition
    /// holds, and forgiven when the condition breaks. A failure is a liveness
    /// [`Violation`] of kind [`CheckKind::Whenever`] that names the window missed.
    ///
    /// ```
    /// use sim_core::{Context, Fault, Node, NodeId, QuorumConnected, Sim, SimDuration};
    /// use sim_core::{SimTime, Window, World};
    ///
    /// struct Idle;
    ///
    /// impl Node for Idle {
    ///     type Message = ();
    ///     type Timer = ();
    ///     type Observation = ();
    ///
    ///     fn on_message(&mut self, _: &mut Context<'_, Self>, _: NodeId, _: ()) {}
    /// }
    ///
    /// let mut sim = Sim::<Idle>::with_seed(7);
    /// for _ in 0..3 {
    ///     sim.add_node(|_| Idle);
    /// }
    /// // "Whenever two nodes have been up and connected for 1 s, node 0 must be up, and
    /// // never down for longer than 1 s": node 0 crashes at 5 s and is not restarted.
    /// let window = Window::new(SimDuration::from_secs(1), SimDuration::from_secs(1));
    /// let node_0_up = |world: &World<'_, Idle>| world.is_up(NodeId(0));
    /// sim.whenever("node 0 serves", QuorumConnected::new(2), window, node_0_up);
    /// sim.schedule(SimTime::from_secs(5), Fault::Crash(NodeId(0)));
    /// let stop = sim.run_for(SimDuration::from_secs(10)).unwrap_err();
    /// let violation = stop.violation().unwrap();
    /// assert_eq!(violation.time, SimTime::from_secs(6));
    /// assert_eq!(violation.window, Some((SimTime::from_secs(5), SimTime::from_secs(6))));
    /// ```
    pub fn whenever(
        &mut self,
        name: &str,
        condition: impl Property<N> + 'static,
        window: Window,
        property: impl Property<N> + 'static,
    ) {
        self.checks
            .add_whenever(name, Box::new(condition), window, Box::new(property));
        // Look at the world as it is now: the condition may already hold, and a quiet
        // run has no step to look after.
        let world = World {
            slots: &self.slots,
            core: &self.core,
            step: self.stats.steps,
        };
        self.checks.evaluate_whenever(&world);
    }

    /// Registers a coverage check: counts the steps after which `property` holds.
    pub fn sometimes(&mut self, name: &str, property: impl FnMut(&World<'_, N>) -> bool + 'static) {
        self.checks.add_sometimes(name, Box::new(property));
    }

    /// Schedules `fault` at virtual time `at` (not in the past).
    pub fn schedule(&mut self, at: SimTime, fault: Fault) {
        assert!(
            at >= self.core.now,
            "fault {fault:?} scheduled in the past ({at})"
        );
        for node in fault.nodes() {
            assert!(
                node.0 < self.core.node_count,
                "fault {fault:?} names unknown {node}"
            );
        }
        let index = u32::try_from(self.faults.len()).expect("more than 2^32 faults");
        self.faults.push(Some(fault));
        self.core.queue.push(at, Event::Fault(index));
    }

    /// Schedules every fault of `schedule`.
    pub fn schedule_all(&mut self, schedule: &FaultSchedule) {
        for timed in schedule.iter() {
            self.schedule(timed.at, timed.fault.clone());
        }
    }

    /// Schedules a call into `node` at `at`, run as a step like a message: a client
    /// request, an operator command. Dropped if the node is down then; delayed until it
    /// resumes if it is paused.
    pub fn schedule_call(
        &mut self,
        at: SimTime,
        node: NodeId,
        call: impl FnOnce(&mut N, &mut Context<'_, N>) + 'static,
    ) {
        assert!(at >= self.core.now, "call scheduled in the past ({at})");
        assert!(node.0 < self.core.node_count, "call to unknown {node}");
        let index = u32::try_from(self.calls.len()).expect("more than 2^32 calls");
        self.calls.push(Some(Box::new(call)));
        self.core.queue.push(at, Event::Call { node, index });
    }

    /// Calls into `node` now, as a step, and returns what the call returned; `None` if
    /// the node is not up (or the run has stopped).
    pub fn call<R>(
        &mut self,
        node: NodeId,
        call: impl FnOnce(&mut N, &mut Context<'_, N>) -> R,
    ) -> Option<R> {
        if self.check_running().is_err() || self.slots[node.index()].status != NodeStatus::Up {
            return None;
        }
        self.begin_step(StepKind::Call, (Some(node), None), None, u64::MAX, || {
            "call".to_string()
        });
        let result = self.with_node(node, call);
        let _ = self.finish_step();
        Some(result)
    }

    /// Takes the next step. Returns what it was, or `None` if nothing is left to happen.
    pub fn step(&mut self) -> Result<Option<StepInfo>, Stop> {
        self.check_running()?;
        while let Some(next) = self.core.queue.peek_time() {
            if next > self.limits.max_time {
                return Err(self.stop(Stop::TimeLimit(self.limits.max_time)));
            }
            if self.take_event(next)? {
                return Ok(Some(StepInfo {
                    step: self.stats.steps,
                    time: self.core.now,
                    kind: self.trace.last_kind,
                    node: self.trace.last_node,
                }));
            }
        }
        Ok(None)
    }

    /// Runs every event up to `duration` from now, then sets the clock to that time.
    pub fn run_for(&mut self, duration: SimDuration) -> Result<(), Stop> {
        let until = self.core.now.saturating_add(duration);
        self.run_to(until)
    }

    /// Runs every event up to time `until`, then sets the clock to `until`.
    pub fn run_to(&mut self, until: SimTime) -> Result<(), Stop> {
        self.run_loop(until, None::<fn(&World<'_, N>) -> bool>)
            .map(|_| ())
    }

    /// Runs until `predicate` holds after a step (or already holds), and returns the
    /// time at which it did; fails if `deadline` passes first or the run stops.
    pub fn run_until(
        &mut self,
        mut predicate: impl FnMut(&World<'_, N>) -> bool,
        deadline: SimTime,
    ) -> Result<SimTime, RunUntilError> {
        self.check_running()?;
        if predicate(&self.world()) {
            return Ok(self.core.now);
        }
        if self.run_loop(deadline, Some(&mut predicate))? {
            Ok(self.core.now)
        } else {
            Err(RunUntilError::DeadlinePassed { deadline })
        }
    }

    /// The read-only view checks see.
    pub fn world(&self) -> World<'_, N> {
        World {
            slots: &self.slots,
            core: &self.core,
            step: self.stats.steps,
        }
    }

    /// The state of `node`, or `None` if it is crashed.
    pub fn node(&self, node: NodeId) -> Option<&N> {
        self.slots[node.index()].node.as_ref()
    }

    /// Whether `node` is up, down or paused.
    pub fn status(&self, node: NodeId) -> NodeStatus {
        self.slots[node.index()].status
    }

    /// `node`'s disk.
    pub fn disk(&self, node: NodeId) -> &Disk {
        &self.slots[node.index()].env.disk
    }

    /// The number of nodes.
    pub fn node_count(&self) -> u32 {
        self.core.node_count
    }

    /// The run's seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// In choice mode, how many bytes of the tape the run has read so far.
    pub fn choices_used(&self) -> Option<usize> {
        self.choices.as_ref().map(|tape| tape.used())
    }

    /// The run's stream named `label`, for a test's own draws (a workload, a fault
    /// schedule): `SimRng::new(seed, label)`, except that in choice mode it reads the
    /// run's tape first, like every stream of the engine.
    pub fn rng(&self, label: &str) -> SimRng {
        SimRng::new(self.seed, label).with_choices(self.choices.clone())
    }

    /// The current true virtual time.
    pub fn now(&self) -> SimTime {
        self.core.now
    }

    /// The trace hash after the last step.
    pub fn trace_hash(&self) -> u64 {
        self.trace.hash
    }

    /// Why the run stopped, if it did.
    pub fn stopped(&self) -> Option<&Stop> {
        self.stopped.as_ref()
    }

    /// Events waiting in the queue.
    pub fn queued_events(&self) -> usize {
        self.core.queue.len()
    }

    /// The full record so far, if recording was enabled in the config.
    pub fn trace_records(&self) -> Option<&[TraceRecord]> {
        self.trace.records.as_deref()
    }

    /// Takes the full record so far (empty if recording was off).
    pub fn take_trace(&mut self) -> Trace {
        self.attach_events();
        Trace {
            seed: self.seed,
            records: self
                .trace
                .records
                .as_mut()
                .map(std::mem::take)
                .unwrap_or_default(),
        }
    }

    /// Everything the engine counted so far.
    pub fn stats(&self) -> Stats {
        Stats {
            network: self.core.network.stats.clone(),
            interceptors: self.core.chain.stats,
            ..self.stats.clone()
        }
    }

    /// The result of the run so far.
    pub fn outcome(&self) -> Outcome {
        Outcome {
            seed: self.seed,
            stop: self.stopped.clone(),
            time: self.core.now,
            trace_hash: self.trace.hash,
            stats: self.stats(),
            coverage: self.checks.coverage(),
        }
    }

    /// Starts keeping the full record of every later step.
    pub(crate) fn record_trace(&mut self) {
        self.trace.records.get_or_insert_with(Vec::new);
        self.trace.detailed = true;
    }

    /// Fails if the run has stopped; refreshes whether tracing wants spans.
    fn check_running(&mut self) -> Result<(), Stop> {
        self.spans = tracing::level_enabled!(tracing::Level::DEBUG);
        match &self.stopped {
            Some(stop) => Err(stop.clone()),
            None => Ok(()),
        }
    }

    fn stop(&mut self, stop: Stop) -> Stop {
        tracing::info!(t_ns = self.core.now.as_nanos(), %stop, "run stopped");
        self.stopped = Some(stop.clone());
        stop
    }

    /// Pops the event at `next` and dispatches it; returns whether it was a step.
    #[inline]
    fn take_event(&mut self, next: SimTime) -> Result<bool, Stop> {
        if next > self.checks.next_deadline {
            self.expire_deadlines(next, false)?;
        }
        let entry = self.core.queue.pop().expect("the queue had an event");
        assert!(entry.time() >= self.core.now, "the clock went backwards");
        self.core.now = entry.time();
        let order = entry.order();
        if self.dispatch(entry.event, order) {
            self.finish_step()?;
            return Ok(true);
        }
        Ok(false)
    }

    fn run_loop(
        &mut self,
        until: SimTime,
        mut predicate: Option<impl FnMut(&World<'_, N>) -> bool>,
    ) -> Result<bool, Stop> {
        self.check_running()?;
        let horizon = until.min(self.limits.max_time);
        while let Some(next) = self.core.queue.peek_time() {
            if next > horizon {
                break;
            }
            if self.take_event(next)?
                && let Some(predicate) = &mut predicate
                && predicate(&self.world())
            {
                return Ok(true);
            }
        }
        self.expire_deadlines(horizon, true)?;
        self.core.now = self.core.now.max(horizon);
        if until > self.limits.max_time {
            return Err(self.stop(Stop::TimeLimit(self.limits.max_time)));
        }
        Ok(false)
    }

    /// Fails the run if a check's deadline is before `time` (or at it, if
    /// `inclusive`: nothing more can happen by then).
    fn expire_deadlines(&mut self, time: SimTime, inclusive: bool) -> Result<(), Stop> {
        let Some(expired) = self.checks.expired(time, inclusive) else {
            return Ok(());
        };
        self.core.now = self.core.now.max(expired.time);
        let violation = Violation {
            check: expired.check,
            kind: expired.kind,
            message: expired.message,
            step: self.stats.steps,
            time: expired.time,
            seed: self.seed,
            window: expired.window,
        };
        Err(self.stop(Stop::Violation(violation)))
    }

    /// Folds the step into the trace hash and, if recording, records it. `sent_at` is
    /// a delivery's send time, for the record only.
    #[inline]
    fn begin_step(
        &mut self,
        kind: StepKind,
        (node, source): (Option<NodeId>, Option<NodeId>),
        sent_at: Option<SimTime>,
        digest: u64,
        detail: impl FnOnce() -> String,
    ) {
        use crate::trace::fold;
        let time = self.core.now;
        let node_word = node.map_or(u64::from(u32::MAX), |n| u64::from(n.0));
        let source_word = source.map_or(u64::from(u32::MAX), |n| u64::from(n.0));
        // Two folds a step: the time, then kind, node, source and digest mixed into one
        // word (the digest rotated so that it cannot cancel the identities).
        let identity = (kind.tag() << 58) ^ (node_word << 29) ^ source_word;
        let hash = fold(
            fold(self.trace.hash, time.as_nanos()),
            identity ^ digest.rotate_left(17),
        );
        self.trace.hash = hash;
        self.trace.last_kind = kind;
        self.trace.last_node = node;
        if self.trace.detailed {
            self.record(TraceRecord {
                step: self.stats.steps + 1,
                time,
                kind,
                node,
                source,
                sent_at,
                detail: detail(),
                hash,
                events: Vec::new(),
            });
        }
    }

    /// Moves the protocol events of the last step into its trace record (when the next
    /// step is recorded, or the trace taken: nothing to do on the hot path).
    fn attach_events(&mut self) {
        let Some(events) = &mut self.core.events else {
            return;
        };
        if let Some(record) = self.trace.records.as_mut().and_then(|r| r.last_mut()) {
            record.events.append(events);
        }
        events.clear();
    }

    /// Adds a step to the full trace.
    #[cold]
    #[inline(never)]
    fn record(&mut self, record: TraceRecord) {
        self.attach_events();
        if let Some(records) = &mut self.trace.records {
            records.push(record);
        }
    }

    /// Counts the step, records its hash and runs every check.
    #[inline]
    fn finish_step(&mut self) -> Result<(), Stop> {
        self.stats.steps += 1;
        if !self.checks.is_empty() {
            let world = World {
                slots: &self.slots,
                core: &self.core,
                step: self.stats.steps,
            };
            if let Some((check, message)) = self.checks.evaluate(&world) {
                let violation = Violation {
                    check,
                    kind: CheckKind::Always,
                    message,
                    step: self.stats.steps,
                    time: self.core.now,
                    seed: self.seed,
                    window: None,
                };
                self.core.observations.clear();
                return Err(self.stop(Stop::Violation(violation)));
            }
        }
        self.core.observations.clear();
        if self.stats.steps >= self.poll_at {
            return self.poll();
        }
        Ok(())
    }

    /// The rare end of a step: the step limit reached, or time to look at the cancel
    /// token.
    #[cold]
    #[inline(never)]
    fn poll(&mut self) -> Result<(), Stop> {
        let steps = self.stats.steps;
        if steps >= self.limits.max_steps {
            return Err(self.stop(Stop::StepLimit(self.limits.max_steps)));
        }
        if self.cancel.as_ref().is_some_and(Cancel::is_cancelled) {
            return Err(self.stop(Stop::Cancelled(steps)));
        }
        self.poll_at = next_poll(steps, self.limits.max_steps, self.cancel.is_some());
        Ok(())
    }

    /// Runs `f` on a running node with its context.
    #[inline(always)]
    fn with_node<R>(
        &mut self,
        node: NodeId,
        f: impl FnOnce(&mut N, &mut Context<'_, N>) -> R,
    ) -> R {
        if self.spans {
            return self.with_node_in_span(node, f);
        }
        let slot = &mut self.slots[node.index()];
        let state = slot.node.as_mut().expect("a running node has state");
        let mut ctx = NodeContext {
            env: &mut slot.env,
            core: &mut self.core,
        };
        let result = f(state, &mut ctx);
        if slot.env.disk.crash_point_armed() {
            self.strike(node);
        }
        result
    }

    /// [`Sim::with_node`] inside a tracing span that carries the virtual time and the
    /// node id. Making a span costs as much as a third of a step, so the engine makes one
    /// only when a subscriber listens at DEBUG (checked once per run call).
    #[cold]
    #[inline(never)]
    fn with_node_in_span<R>(
        &mut self,
        node: NodeId,
        f: impl FnOnce(&mut N, &mut Context<'_, N>) -> R,
    ) -> R {
        let span = tracing::debug_span!("node", node = node.0, t_ns = self.core.now.as_nanos());
        let _entered = span.enter();
        self.spans = false;
        let result = self.with_node(node, f);
        self.spans = true;
        result
    }
}

mod dispatch;
