//! Building a simulated Raft cluster and driving it with client requests.
//!
//! ```
//! use node_model::raft::{self, RaftConfig, RaftView, Workload};
//! use sim_core::{SimDuration, SimTime};
//!
//! let mut sim = raft::cluster(7, 3, &RaftConfig::default());
//! raft::checks::install(&mut sim);
//! let history = raft::record_history(&mut sim);
//! Workload::new(SimTime::from_secs(1), SimTime::from_secs(3)).schedule(&mut sim);
//! sim.run_for(SimDuration::from_secs(4)).expect("no violation");
//! let report = history.check().expect("linearizable");
//! assert!(report.completed > 50, "{report:?}");
//! ```

use std::cell::Cell;
use std::rc::Rc;

use sim_core::{Context, Node, NodeId, Sim, SimConfig, SimDuration, SimRng, SimTime};

use super::config::RaftConfig;
use super::node::{NotLeader, RaftNode};
use super::view::{Key, Op, RaftEvent, RaftView, RequestId};

/// A simulation of `replicas` Raft replicas (nodes `0..replicas`) with the default
/// network, seeded with `seed`. Panics if `config` does not validate.
pub fn cluster(seed: u64, replicas: u32, config: &RaftConfig) -> Sim<RaftNode> {
    cluster_with(SimConfig::new(seed), replicas, config)
}

/// [`cluster`] with a simulation config of your own (network, limits, tracing).
pub fn cluster_with(sim_config: SimConfig, replicas: u32, config: &RaftConfig) -> Sim<RaftNode> {
    assert!(replicas >= 1, "a cluster has at least one replica");
    if let Err(error) = config.validate() {
        panic!("invalid Raft config: {error}");
    }
    let mut sim = Sim::new(sim_config);
    for _ in 0..replicas {
        let config = config.clone();
        sim.add_node(move |id| RaftNode::new(id, config.clone()));
    }
    sim
}

/// Every replica of `sim`, in id order.
pub fn replicas<N: Node>(sim: &Sim<N>) -> Vec<NodeId> {
    (0..sim.node_count()).map(NodeId).collect()
}

/// Clients sending a stream of puts and gets, drawn from the run's `"workload"` stream.
///
/// Each request is offered, at one instant, to every replica in a random order; the
/// first replica that leads takes it (observing [`super::RaftEvent::Invoked`]) and the
/// rest are not asked. That models a client that asks around for the leader, without
/// a reply channel (a call into a node cannot schedule further calls). If no replica
/// leads at that instant the request is dropped, which is certain not to happen and
/// leaves no trace in the history. Every put writes a value no other put writes, so
/// that a read names the write it saw. Clients are open-loop: a client's requests may
/// overlap.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Workload {
    /// The first request's earliest time.
    pub start: SimTime,
    /// No request at or after this time.
    pub end: SimTime,
    /// The shortest gap between two requests.
    pub interval_min: SimDuration,
    /// The longest gap between two requests.
    pub interval_max: SimDuration,
    /// Keys are drawn from `0..keys`.
    pub keys: u32,
    /// Requests are spread over this many client ids, round robin.
    pub clients: u32,
    /// The share of gets, in percent; the rest are puts.
    pub reads_percent: u32,
}

impl Workload {
    /// Requests every 5–25 ms over 4 keys from 3 clients, a third of them reads.
    pub fn new(start: SimTime, end: SimTime) -> Workload {
        Workload {
            start,
            end,
            interval_min: SimDuration::from_millis(5),
            interval_max: SimDuration::from_millis(25),
            keys: 4,
            clients: 3,
            reads_percent: 33,
        }
    }

    /// Checks the settings, returning what is wrong in words.
    pub fn validate(&self) -> Result<(), String> {
        if self.start > self.end {
            return Err(format!("start {} is after end {}", self.start, self.end));
        }
        if self.interval_max == SimDuration::ZERO || self.interval_min > self.interval_max {
            return Err(format!(
                "intervals must satisfy 0 <= interval_min ({}) <= interval_max ({}) and \
                 interval_max > 0",
                self.interval_min, self.interval_max
            ));
        }
        if self.keys == 0 || self.clients == 0 {
            return Err("keys and clients must be at least 1".to_string());
        }
        if self.reads_percent > 100 {
            return Err(format!(
                "reads_percent is {}, above 100",
                self.reads_percent
            ));
        }
        Ok(())
    }

    /// Schedules every request on `sim` (not in its past); returns how many. Panics if
    /// the workload does not validate.
    pub fn schedule<N: Replica>(&self, sim: &mut Sim<N>) -> u64 {
        if let Err(error) = self.validate() {
            panic!("invalid workload: {error}");
        }
        let mut rng = sim.rng("workload");
        let mut replicas = replicas(sim);
        let mut at = self.start;
        let mut count = 0;
        loop {
            let gap = rng.between(self.interval_min.as_nanos(), self.interval_max.as_nanos());
            at = at.saturating_add(SimDuration::from_nanos(gap));
            if at >= self.end {
                return count;
            }
            let (request, op) = self.draw(count, &mut rng);
            rng.shuffle(&mut replicas);
            Offer::new(request, op).schedule(sim, at, &replicas);
            count += 1;
        }
    }

    /// The `number`th request.
    fn draw(&self, number: u64, rng: &mut SimRng) -> (RequestId, Op) {
        let clients = u64::from(self.clients);
        let request = RequestId {
            client: u32::try_from(number % clients).expect("fewer than 2^32 clients"),
            sequence: number / clients,
        };
        let key = Key::try_from(rng.below(u64::from(self.keys))).expect("keys fit in a Key");
        let op = if rng.chance(u64::from(self.reads_percent), 100) {
            Op::Get { key }
        } else {
            Op::Put { key, value: number }
        };
        (request, op)
    }
}

/// Offers one request to `replicas` in order at `at`; the first leader takes it.
/// A Raft replica that clients can submit to, whatever the implementation: what
/// [`Workload`] and [`Offer`] need.
pub trait Replica: Node<Observation = RaftEvent> + RaftView {
    /// Submits a client request; only the leader accepts it.
    fn submit_request(
        &mut self,
        ctx: &mut Context<'_, Self>,
        request: RequestId,
        op: Op,
    ) -> Result<(), NotLeader>;
}

impl Replica for RaftNode {
    fn submit_request(
        &mut self,
        ctx: &mut Context<'_, Self>,
        request: RequestId,
        op: Op,
    ) -> Result<(), NotLeader> {
        self.submit(ctx, request, op)
    }
}

/// A client request offered to replicas until one of them (the leader) takes it. Every
/// scheduled offer of one `Offer` shares the same "taken" flag, so a request offered
/// again later (a client retrying) is still submitted at most once.
#[derive(Clone, Debug)]
pub struct Offer {
    request: RequestId,
    op: Op,
    taken: Rc<Cell<bool>>,
    /// Set when the client has its answer (by this or another offer): no more asking.
    answered: Option<Rc<Cell<bool>>>,
}

impl Offer {
    /// A request not yet taken.
    pub fn new(request: RequestId, op: Op) -> Offer {
        Offer {
            request,
            op,
            taken: Rc::new(Cell::new(false)),
            answered: None,
        }
    }

    /// This offer, withdrawn once `answered` is set: a client that retries a request
    /// under a new id until one attempt is answered gives all its attempts one flag.
    pub fn until_answered(mut self, answered: Rc<Cell<bool>>) -> Offer {
        self.answered = Some(answered);
        self
    }

    /// Offers the request at `at` to `replicas`, in that order.
    pub fn schedule<N: Replica>(&self, sim: &mut Sim<N>, at: SimTime, replicas: &[NodeId]) {
        for &replica in replicas {
            let (taken, request, op) = (Rc::clone(&self.taken), self.request, self.op);
            let answered = self.answered.clone();
            sim.schedule_call(at, replica, move |node, ctx| {
                let done = taken.get() || answered.as_ref().is_some_and(|a| a.get());
                if !done && node.submit_request(ctx, request, op).is_ok() {
                    taken.set(true);
                }
            });
        }
    }

    /// Has a replica taken it?
    pub fn taken(&self) -> bool {
        self.taken.get()
    }
}
