//! Interceptors: an ordered chain that sees every message in flight.
//!
//! This is an in-process man-in-the-middle proxy with access to message contents. Each
//! message a node sends passes through the chain, in the order the interceptors were
//! added, before the network model decides its latency and fate. An interceptor sees
//! the [`Envelope`] (source, target, send time, the typed message) and returns a
//! [`Verdict`]:
//!
//! - [`Verdict::Pass`]: hand the message on unchanged;
//! - [`Verdict::Drop`]: the message vanishes (counted);
//! - [`Verdict::Delay`]: add a delay on top of the link's latency, then hand it on;
//! - [`Verdict::Duplicate`]: hand it on, and send a copy through the rest of the chain;
//! - [`Verdict::Replace`]: hand on a different message instead.
//!
//! Through its [`InterceptorContext`] an interceptor can also *inject* new messages with
//! any source (a forged sender is exactly what an adversary would send). Injected
//! messages skip the rest of the chain, so an interceptor cannot loop on its own output,
//! and go straight to the network model. Each interceptor draws from its own random
//! stream, named after it.
//!
//! ```
//! use sim_core::{Envelope, InterceptorContext, Verdict};
//!
//! // Drop every third message from node 0.
//! let mut seen = 0;
//! let mut drop_some = move |_ctx: &mut InterceptorContext<'_, u64>, envelope: &Envelope<u64>| -> Verdict<u64> {
//!     if envelope.source.0 == 0 {
//!         seen += 1;
//!         if seen % 3 == 0 {
//!             return Verdict::Drop;
//!         }
//!     }
//!     Verdict::Pass
//! };
//! # let _ = &mut drop_some;
//! ```

use serde::{Deserialize, Serialize};

use crate::node::NodeId;
use crate::rng::SimRng;
use crate::time::{SimDuration, SimTime};

/// A message on its way: who sent it to whom, when, and what it says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Envelope<M> {
    /// The sender (as claimed: injected messages may forge it).
    pub source: NodeId,
    /// The receiver.
    pub target: NodeId,
    /// The true virtual time at which it was sent.
    pub sent_at: SimTime,
    /// The message itself.
    pub message: M,
}

/// What an interceptor decides about one message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict<M> {
    /// Hand the message on unchanged.
    Pass,
    /// Drop the message.
    Drop,
    /// Add this delay on top of the link latency and hand it on.
    Delay(SimDuration),
    /// Hand it on and send a copy through the rest of the chain.
    Duplicate,
    /// Hand on this message instead.
    Replace(M),
}

/// What an interceptor may do besides judging the message in hand.
#[derive(Debug)]
pub struct InterceptorContext<'a, M> {
    pub(crate) now: SimTime,
    pub(crate) node_count: u32,
    pub(crate) rng: &'a mut SimRng,
    pub(crate) injected: &'a mut Vec<(Envelope<M>, SimDuration)>,
}

impl<M> InterceptorContext<'_, M> {
    /// The current (true) virtual time.
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// The number of nodes in the simulation.
    pub fn node_count(&self) -> u32 {
        self.node_count
    }

    /// This interceptor's own random stream.
    pub fn rng(&mut self) -> &mut SimRng {
        self.rng
    }

    /// Sends `message` from `source` to `target` after `delay` on top of the link
    /// latency, bypassing the rest of the chain.
    pub fn inject(&mut self, source: NodeId, target: NodeId, message: M, delay: SimDuration) {
        assert!(
            source.0 < self.node_count && target.0 < self.node_count,
            "injected message {source} -> {target} names a node that does not exist"
        );
        let envelope = Envelope {
            source,
            target,
            sent_at: self.now,
            message,
        };
        self.injected.push((envelope, delay));
    }
}

/// A link in the interceptor chain. Closures of the right shape are interceptors.
pub trait Interceptor<M>: 'static {
    /// Judges one message.
    fn intercept(
        &mut self,
        ctx: &mut InterceptorContext<'_, M>,
        envelope: &Envelope<M>,
    ) -> Verdict<M>;
}

impl<M, F> Interceptor<M> for F
where
    F: FnMut(&mut InterceptorContext<'_, M>, &Envelope<M>) -> Verdict<M> + 'static,
{
    fn intercept(
        &mut self,
        ctx: &mut InterceptorContext<'_, M>,
        envelope: &Envelope<M>,
    ) -> Verdict<M> {
        self(ctx, envelope)
    }
}

/// What the interceptor chain did, counted over the run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InterceptorStats {
    /// Messages that went through the whole chain (including copies).
    pub passed: u64,
    /// Messages dropped by an interceptor.
    pub dropped: u64,
    /// Delay verdicts.
    pub delayed: u64,
    /// Copies made by duplicate verdicts.
    pub duplicated: u64,
    /// Messages replaced.
    pub replaced: u64,
    /// Messages injected.
    pub injected: u64,
}

/// One named interceptor and its random stream.
pub(crate) struct Installed<M> {
    pub(crate) name: String,
    pub(crate) rng: SimRng,
    pub(crate) interceptor: Box<dyn Interceptor<M>>,
}

impl<M> std::fmt::Debug for Installed<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Interceptor")
            .field("name", &self.name)
            .finish()
    }
}

/// The chain, with the scratch space it reuses between messages.
#[derive(Debug)]
pub(crate) struct Chain<M> {
    pub(crate) installed: Vec<Installed<M>>,
    work: Vec<(usize, Envelope<M>, SimDuration)>,
    injected: Vec<(Envelope<M>, SimDuration)>,
    pub(crate) stats: InterceptorStats,
}

impl<M: Clone + 'static> Chain<M> {
    pub(crate) fn new() -> Chain<M> {
        Chain {
            installed: Vec::new(),
            work: Vec::new(),
            injected: Vec::new(),
            stats: InterceptorStats::default(),
        }
    }

    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.installed.is_empty()
    }

    /// Runs `envelope` through the chain; calls `route` for each message that comes out
    /// (survivors, copies and injections, in a deterministic order) with its extra delay.
    pub(crate) fn run(
        &mut self,
        envelope: Envelope<M>,
        node_count: u32,
        mut route: impl FnMut(Envelope<M>, SimDuration),
    ) {
        let now = envelope.sent_at;
        let mut work = std::mem::take(&mut self.work);
        let mut injected = std::mem::take(&mut self.injected);
        work.push((0, envelope, SimDuration::ZERO));
        while let Some((mut next, mut envelope, mut delay)) = work.pop() {
            let mut dropped = false;
            while let Some(installed) = self.installed.get_mut(next) {
                next += 1;
                let mut ctx = InterceptorContext {
                    now,
                    node_count,
                    rng: &mut installed.rng,
                    injected: &mut injected,
                };
                match installed.interceptor.intercept(&mut ctx, &envelope) {
                    Verdict::Pass => {}
                    Verdict::Drop => {
                        self.stats.dropped += 1;
                        dropped = true;
                        break;
                    }
                    Verdict::Delay(extra) => {
                        self.stats.delayed += 1;
                        delay += extra;
                    }
                    Verdict::Duplicate => {
                        self.stats.duplicated += 1;
                        work.push((next, envelope.clone(), delay));
                    }
                    Verdict::Replace(message) => {
                        self.stats.replaced += 1;
                        envelope.message = message;
                    }
                }
            }
            if !dropped {
                self.stats.passed += 1;
                route(envelope, delay);
            }
        }
        for (envelope, delay) in injected.drain(..) {
            self.stats.injected += 1;
            route(envelope, delay);
        }
        self.work = work;
        self.injected = injected;
    }
}
