//! # sim-core: detsim's deterministic engine
//!
//! A discrete-event simulator that runs many node state machines in one process, on one
//! thread, on a virtual clock. Every source of nondeterminism — time, randomness, event
//! order, the network, crashes, disks, adversaries — belongs to the simulator and is
//! derived from one `u64` seed. The same seed, build and setup give the same run, step
//! for step, on any machine.
//!
//! ```
//! use sim_core::{Context, Fault, Node, NodeId, Sim, SimDuration, SimTime};
//!
//! /// Counts pings; answers each with a pong.
//! #[derive(Default)]
//! struct Peer {
//!     received: u64,
//! }
//!
//! impl Node for Peer {
//!     type Message = u64;
//!     type Timer = ();
//!     type Observation = ();
//!
//!     fn on_start(&mut self, ctx: &mut Context<'_, Self>) {
//!         if ctx.id() == NodeId(0) {
//!             ctx.send(NodeId(1), 0);
//!         }
//!     }
//!
//!     fn on_message(&mut self, ctx: &mut Context<'_, Self>, source: NodeId, n: u64) {
//!         self.received += 1;
//!         ctx.send(source, n + 1);
//!     }
//! }
//!
//! let mut sim = Sim::with_seed(42);
//! let a = sim.add_node(|_| Peer::default());
//! let b = sim.add_node(|_| Peer::default());
//!
//! // A safety check, run after every step: a rally has one ball.
//! sim.always("one ball in play", |world| match world.in_flight().count() {
//!     0 | 1 => Ok(()),
//!     n => Err(format!("{n} messages in flight")),
//! });
//! // A coverage check: did the receiver ever get 100 pings?
//! sim.sometimes("long rally", move |world| world.node(b).is_some_and(|p| p.received >= 100));
//!
//! // Crash the receiver: its volatile state is lost and the rally stops.
//! sim.schedule(SimTime::from_secs(1), Fault::Crash(b));
//! sim.schedule(SimTime::from_secs(2), Fault::Restart(b));
//!
//! sim.run_for(SimDuration::from_secs(10)).expect("no violation");
//! let outcome = sim.outcome();
//! assert!(outcome.passed());
//! assert_eq!(outcome.stats.deliveries, 1_000); // 1 ms a hop until the crash at 1 s
//! assert_eq!(outcome.never_reached().count(), 0);
//! println!("{outcome}");
//! ```
//!
//! ## Where to look
//!
//! | concept | module | guarantees |
//! |---|---|---|
//! | virtual time | [`time`] | integer nanoseconds, never backwards |
//! | randomness | [`rng`] | one seeded stream per purpose; our own sampling |
//! | event order | [`queue`] | `(time, sequence)`, FIFO or seeded random among ties |
//! | nodes | [`node`] | sans-IO state machines, acting through a context |
//! | network | [`network`], [`topology`], [`latency`] | seeded latency, loss, duplication, reordering, bounded queues, partitions, clogs |
//! | interceptors | [`interceptor`] | see and judge every message in flight |
//! | disks | [`disk`] | unsynced writes die with a crash; opt-in disk faults |
//! | clocks | [`clock`] | per-node skew and drift |
//! | faults | [`fault`], [`fault_generator`] | scheduled or seeded-random, always repaired |
//! | checks | [`check`], [`world`] | always / eventually / sometimes / whenever, after every step |
//! | connectivity | [`connectivity`] | who is up and linked: conditions for windowed liveness |
//! | traces | [`trace`], [`determinism`] | rolling hash, full record, divergence finder |
//! | encoding | [`encoding`] | the one module that knows the binary format |

#![deny(missing_docs)]

pub mod check;
pub mod clock;
pub mod connectivity;
mod context;
mod core;
pub mod determinism;
pub mod disk;
pub mod encoding;
pub mod fault;
pub mod fault_generator;
pub mod interceptor;
pub mod latency;
pub mod network;
pub mod node;
pub mod outcome;
pub mod queue;
pub mod rng;
mod sim;
#[cfg(feature = "proptest")]
pub mod strategy;
pub mod time;
mod timer;
pub mod topology;
pub mod trace;
pub mod world;

pub use crate::check::{CheckKind, Coverage, Invariant, Property, Violation, Window};
pub use crate::clock::Clock;
pub use crate::connectivity::{ConnectedGroup, QuorumConnected};
pub use crate::context::NodeContext;
pub use crate::core::Observation;
pub use crate::determinism::{Divergence, check_determinism};
pub use crate::disk::{Disk, DiskError, DiskFaults, DiskStats};
pub use crate::fault::{ClogTarget, Fault, FaultSchedule, Moment, Strike, TimedFault};
pub use crate::fault_generator::{FaultGenerator, FaultWeights, Tempo};
pub use crate::interceptor::{
    Envelope, Interceptor, InterceptorContext, InterceptorStats, Verdict,
};
pub use crate::latency::Latency;
pub use crate::network::{LinkConfig, LinkOverride, NetworkConfig, NetworkStats};
pub use crate::node::{Context, Node, NodeId, NodeStatus};
pub use crate::outcome::{Cancel, Limits, Outcome, RunUntilError, Stats, Stop};
pub use crate::queue::TieBreak;
pub use crate::rng::{Chance, Choices, SimRng};
pub use crate::sim::{Sim, SimConfig, StepInfo};
pub use crate::time::{SimDuration, SimTime};
pub use crate::timer::TimerId;
pub use crate::topology::{Partition, Topology, TopologySpec};
pub use crate::trace::{StepKind, Trace, TraceRecord, debug_digest, digest};
pub use crate::world::{InFlight, World};
