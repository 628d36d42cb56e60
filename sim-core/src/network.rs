//! The network model: what happens to a message between `send` and delivery.
//!
//! Each directed link has a [`LinkConfig`]: a latency distribution, loss, duplication,
//! reordering, optional FIFO order, and a bounded queue of messages in flight. All
//! random choices come from the network's own seeded stream, and a choice whose
//! probability is zero draws nothing, so turning a fault off leaves the stream as it was.
//!
//! On its way, a message can be:
//! - **cut** by a partition, at send time or while in flight (a message in flight when
//!   its link is cut is lost, like a packet dropped by a firewall at the receiver, even
//!   if the link heals before it would have arrived; one held by a clog too). The event
//!   queue's sequence numbers tell which messages were sent before a cut, and the
//!   check costs nothing until a link is cut with messages on it;
//! - **lost** (`loss`), **duplicated** (`duplicate`: a second copy with its own
//!   latency), **reordered** (`reorder`: held back by up to `reorder_delay_max`, even on
//!   a FIFO link);
//! - **dropped on overflow** when its link already has `queue_capacity` messages in
//!   flight: queues are bounded and overflow is counted, never unbounded;
//! - **held** while its link, its sender or its receiver is clogged, and delivered
//!   when the clog ends (FoundationDB's "clogging": nothing is lost, everything is late).
//!
//! Every one of these outcomes is counted in [`NetworkStats`].
//!
//! Per-link state costs memory only for links that need it (see `links.rs`): a cluster
//! of ten thousand nodes does not hold a hundred million links.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::latency::Latency;
use crate::node::NodeId;
use crate::rng::{Chance, SimRng};
use crate::time::{SimDuration, SimTime};
use crate::topology::{EdgeChange, Partition, Topology, TopologySpec};

mod links;

use links::{CLOGGED, CUT, LinkState, LinkTable};

/// How one directed link behaves.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LinkConfig {
    /// How long a message takes.
    pub latency: Latency,
    /// The chance that a message is lost.
    pub loss: Chance,
    /// The chance that a message is delivered twice.
    pub duplicate: Chance,
    /// The chance that a message is held back by up to `reorder_delay_max`, so that
    /// later messages overtake it.
    pub reorder: Chance,
    /// The longest extra delay of a reordered message.
    pub reorder_delay_max: SimDuration,
    /// Deliver messages in the order they were sent (like TCP), except reordered ones.
    pub fifo: bool,
    /// The most messages that may be in flight on the link; more are dropped.
    pub queue_capacity: u32,
}

impl Default for LinkConfig {
    /// 1 ms constant latency, no loss, no duplication, no reordering, no FIFO guarantee,
    /// 1,024 messages in flight at most.
    fn default() -> Self {
        LinkConfig {
            latency: Latency::Constant(SimDuration::from_millis(1)),
            loss: Chance::NEVER,
            duplicate: Chance::NEVER,
            reorder: Chance::NEVER,
            reorder_delay_max: SimDuration::ZERO,
            fifo: false,
            queue_capacity: 1_024,
        }
    }
}

impl LinkConfig {
    /// A link with the given latency and otherwise default settings.
    pub fn with_latency(latency: Latency) -> LinkConfig {
        LinkConfig {
            latency,
            ..LinkConfig::default()
        }
    }

    /// Checks the settings, returning what is wrong in words.
    pub fn validate(&self) -> Result<(), String> {
        self.latency.validate()?;
        if self.queue_capacity == 0 {
            return Err("queue_capacity must be at least 1".to_string());
        }
        if !self.reorder.is_never() && self.reorder_delay_max == SimDuration::ZERO {
            return Err("reorder needs a non-zero reorder_delay_max".to_string());
        }
        Ok(())
    }
}

/// Settings for one directed link that differ from the default.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LinkOverride {
    /// The sending end.
    pub source: NodeId,
    /// The receiving end.
    pub target: NodeId,
    /// The link's settings.
    pub config: LinkConfig,
}

/// The whole network: topology, default link settings and per-link overrides.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NetworkConfig {
    /// Which links exist before any partition.
    pub topology: TopologySpec,
    /// Settings of every link without an override.
    pub default_link: LinkConfig,
    /// Per-link settings.
    pub links: Vec<LinkOverride>,
}

/// What the network did with messages, counted over the whole run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkStats {
    /// Messages handed to the network (after interceptors).
    pub sent: u64,
    /// Messages cut by a partition, at send time or in flight.
    pub dropped_partition: u64,
    /// Messages lost to the `loss` chance.
    pub dropped_loss: u64,
    /// Messages dropped because their link's queue was full.
    pub dropped_overflow: u64,
    /// Extra copies created by the `duplicate` chance.
    pub duplicated: u64,
    /// Messages held back by the `reorder` chance.
    pub reordered: u64,
    /// Messages that reached a clogged link and waited for it to clear.
    pub held_by_clog: u64,
}

/// A link config and whether it is *plain*: no loss, duplication, reordering or FIFO,
/// so that sending needs only a latency draw.
#[derive(Clone, Debug)]
struct Settings {
    config: LinkConfig,
    plain: bool,
}

impl Settings {
    fn new(config: LinkConfig) -> Settings {
        let plain = config.loss.is_never()
            && config.duplicate.is_never()
            && config.reorder.is_never()
            && !config.fifo;
        Settings { config, plain }
    }
}

/// When the copies of a sent message arrive (none if it was dropped).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Arrivals {
    pub(crate) first: Option<SimTime>,
    pub(crate) second: Option<SimTime>,
}

impl Arrivals {
    const NONE: Arrivals = Arrivals {
        first: None,
        second: None,
    };

    fn one(at: SimTime) -> Arrivals {
        Arrivals {
            first: Some(at),
            second: None,
        }
    }
}

/// What happens to a message that reaches the end of its link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Arrival {
    /// Hand it to the target.
    Deliver,
    /// A partition cut the link while the message was in flight.
    Cut,
    /// The link, the sender or the receiver is clogged: hold it until that clears.
    Clogged,
}

/// The network's state during a run.
#[derive(Debug)]
pub(crate) struct Network {
    pub(crate) topology: Topology,
    settings: Vec<Settings>,
    overrides: BTreeMap<(NodeId, NodeId), u16>,
    /// Per-link state; made on the first send.
    links: LinkTable,
    clogged_nodes: Vec<bool>,
    /// Clogged nodes plus clogged links: zero means nothing is clogged anywhere.
    clogs: usize,
    /// Per link cut while messages were in flight on it: the queue sequence number at
    /// the cut, and how many of the messages sent before it have yet to arrive. Those
    /// are lost when they arrive, even if the link has healed since. An entry goes when
    /// the last of them has arrived.
    cut_in_flight: BTreeMap<(NodeId, NodeId), (u64, u32)>,
    /// Clogs plus links with messages cut in flight: zero on the fast path.
    unusual: usize,
    /// What of an event's order key is its sequence number (all of it, or the low bits
    /// under random tie-breaking).
    sequence_mask: u64,
    rng: SimRng,
    pub(crate) stats: NetworkStats,
}

impl Network {
    pub(crate) fn new(config: &NetworkConfig, rng: SimRng) -> Network {
        Network::with_links(config, rng, LinkTable::new())
    }

    fn with_links(config: &NetworkConfig, rng: SimRng, links: LinkTable) -> Network {
        let mut network = Network {
            topology: Topology::new(config.topology.clone()),
            settings: vec![Settings::new(config.default_link.clone())],
            overrides: BTreeMap::new(),
            links,
            clogged_nodes: Vec::new(),
            clogs: 0,
            cut_in_flight: BTreeMap::new(),
            unusual: 0,
            sequence_mask: u64::MAX,
            rng,
            stats: NetworkStats::default(),
        };
        for link in &config.links {
            network.set_link(link.source, link.target, link.config.clone());
        }
        network
    }

    pub(crate) fn add_node(&mut self) -> NodeId {
        let node = self.topology.add_node();
        self.clogged_nodes.push(false);
        if self.links.is_made() {
            self.make_links();
        }
        node
    }

    /// (Re)makes the link table for the current node count, keeping link state.
    #[cold]
    fn make_links(&mut self) {
        let (topology, overrides) = (&self.topology, &self.overrides);
        self.links.resize(topology.node_count(), |source, target| {
            fresh(topology, overrides, source, target)
        });
    }

    /// Replaces the settings of one directed link.
    pub(crate) fn set_link(&mut self, source: NodeId, target: NodeId, config: LinkConfig) {
        let index = match self.settings.iter().position(|s| s.config == config) {
            Some(index) => index,
            None => {
                self.settings.push(Settings::new(config));
                self.settings.len() - 1
            }
        };
        let index = u16::try_from(index).expect("more than 65,535 distinct link configs");
        self.overrides.insert((source, target), index);
        if let Some(link) = self.links.get_mut(source, target) {
            link.config = index;
        }
    }

    /// The link's state, made fresh if it has none (and the table on first use).
    #[inline]
    fn link(&mut self, source: NodeId, target: NodeId) -> &mut LinkState {
        if !self.links.is_made() {
            self.make_links();
        }
        let (topology, overrides) = (&self.topology, &self.overrides);
        self.links.open(source, target, || {
            fresh(topology, overrides, source, target)
        })
    }

    /// Decides the fate of a message sent now from `source` to `target`, with
    /// `extra_delay` added by interceptors.
    #[inline(always)]
    pub(crate) fn route(
        &mut self,
        now: SimTime,
        source: NodeId,
        target: NodeId,
        extra_delay: SimDuration,
    ) -> Arrivals {
        self.stats.sent += 1;
        if source == target {
            return Arrivals::one(now + extra_delay);
        }
        let Some(link) = self.links.dense_mut(source, target) else {
            return self.route_elsewhere(now, source, target, extra_delay);
        };
        // What `send_plain` does, written out: returning its `Option` here costs W1 a
        // few percent.
        let settings = &self.settings[usize::from(link.config)];
        if link.blocked & CUT != 0 {
            self.stats.dropped_partition += 1;
            return Arrivals::NONE;
        }
        if !settings.plain {
            return self.route_faulty(now, source, target, extra_delay);
        }
        if link.in_flight >= settings.config.queue_capacity {
            self.stats.dropped_overflow += 1;
            return Arrivals::NONE;
        }
        link.in_flight += 1;
        let delay = settings.config.latency.sample(&mut self.rng);
        Arrivals::one(now + delay + extra_delay)
    }

    /// [`Network::route`] when the link is not in the dense table: the first message of
    /// the run, or any message of a large cluster.
    #[inline(never)]
    fn route_elsewhere(
        &mut self,
        now: SimTime,
        source: NodeId,
        target: NodeId,
        extra_delay: SimDuration,
    ) -> Arrivals {
        if !self.links.is_made() {
            self.make_links();
        }
        let (topology, overrides) = (&self.topology, &self.overrides);
        let link = self.links.open(source, target, || {
            fresh(topology, overrides, source, target)
        });
        let sent = send_plain(
            link,
            &self.settings,
            &mut self.rng,
            &mut self.stats,
            now + extra_delay,
        );
        sent.unwrap_or_else(|| self.route_faulty(now, source, target, extra_delay))
    }

    /// [`Network::route`] for links with loss, duplication, reordering or FIFO order.
    #[cold]
    #[inline(never)]
    fn route_faulty(
        &mut self,
        now: SimTime,
        source: NodeId,
        target: NodeId,
        extra_delay: SimDuration,
    ) -> Arrivals {
        let index = usize::from(self.link(source, target).config);
        let config = &self.settings[index].config;
        let (loss, duplicate) = (config.loss, config.duplicate);
        if self.rng.sample(loss) {
            self.stats.dropped_loss += 1;
            return Arrivals::NONE;
        }
        let mut arrivals = Arrivals::NONE;
        arrivals.first = self.schedule_copy(now, source, target, extra_delay);
        if arrivals.first.is_some() && self.rng.sample(duplicate) {
            arrivals.second = self.schedule_copy(now, source, target, extra_delay);
            self.stats.duplicated += u64::from(arrivals.second.is_some());
        }
        arrivals
    }

    /// Puts one copy on the link: checks capacity, draws latency and reordering.
    fn schedule_copy(
        &mut self,
        now: SimTime,
        source: NodeId,
        target: NodeId,
        extra_delay: SimDuration,
    ) -> Option<SimTime> {
        let link = self
            .links
            .get_mut(source, target)
            .expect("route opened the link");
        let config = &self.settings[usize::from(link.config)].config;
        if link.in_flight >= config.queue_capacity {
            self.stats.dropped_overflow += 1;
            return None;
        }
        link.in_flight += 1;
        let delay = config.latency.sample(&mut self.rng) + extra_delay;
        if self.rng.sample(config.reorder) {
            self.stats.reordered += 1;
            let hold = self.rng.between(1, config.reorder_delay_max.as_nanos());
            return Some(now + delay + SimDuration::from_nanos(hold));
        }
        let mut arrival = now + delay;
        if config.fifo {
            // Strictly after the previous delivery, so that even random tie-breaking
            // cannot swap two messages of a FIFO link.
            arrival = arrival.max(link.last_delivery + SimDuration::from_nanos(1));
            link.last_delivery = arrival;
        }
        Some(arrival)
    }

    /// Decides what happens to a message from `source` reaching `target` now.
    #[inline(always)]
    pub(crate) fn arrive(&mut self, source: NodeId, target: NodeId, order: u64) -> Arrival {
        if source == target {
            return Arrival::Deliver;
        }
        let unusual = self.unusual;
        let Some(link) = self.links.dense_mut(source, target) else {
            return self.arrive_blocked(source, target, order);
        };
        if link.blocked != 0 || unusual > 0 {
            return self.arrive_blocked(source, target, order);
        }
        debug_assert!(link.in_flight > 0, "a delivery that was never sent");
        link.in_flight -= 1;
        Arrival::Deliver
    }

    /// [`Network::arrive`] when the link is cut or clogged, something is clogged
    /// somewhere, a link was cut while messages were in flight, or the link is not in
    /// the dense table (a large cluster).
    #[inline(never)]
    fn arrive_blocked(&mut self, source: NodeId, target: NodeId, order: u64) -> Arrival {
        let cut_in_flight = self.was_cut_in_flight(source, target, order);
        if !cut_in_flight && self.is_clogged(source, target) {
            self.stats.held_by_clog += 1;
            return Arrival::Clogged;
        }
        let settings = &self.settings;
        let landed = self.links.land(source, target, |config| {
            settings[usize::from(config)].config.fifo
        });
        if cut_in_flight {
            self.lost_in_flight(source, target);
            Arrival::Cut
        } else if landed.blocked & CUT != 0 {
            self.stats.dropped_partition += 1;
            Arrival::Cut
        } else {
            Arrival::Deliver
        }
    }

    /// Was the link cut after the message with event order key `order` was sent? Then
    /// it is lost, whether or not the link has healed since.
    pub(crate) fn was_cut_in_flight(&self, source: NodeId, target: NodeId, order: u64) -> bool {
        self.cut_in_flight
            .get(&(source, target))
            .is_some_and(|&(cut, _)| order & self.sequence_mask < cut)
    }

    /// Counts a message lost to a cut while it was in flight (it has left its link).
    fn lost_in_flight(&mut self, source: NodeId, target: NodeId) {
        self.stats.dropped_partition += 1;
        if let Some((_, doomed)) = self.cut_in_flight.get_mut(&(source, target)) {
            *doomed -= 1;
            if *doomed == 0 {
                self.cut_in_flight.remove(&(source, target));
                self.refresh_unusual();
            }
        }
    }

    /// Drops a held message (a clog held it) whose link was cut while it was held.
    pub(crate) fn drop_held(&mut self, source: NodeId, target: NodeId) {
        let settings = &self.settings;
        self.links.land(source, target, |config| {
            settings[usize::from(config)].config.fifo
        });
        self.lost_in_flight(source, target);
    }

    /// Sets what of an event's order key is its sequence number (see
    /// [`crate::queue::EventQueue::sequence_mask`]).
    pub(crate) fn set_sequence_mask(&mut self, mask: u64) {
        self.sequence_mask = mask;
    }

    /// Is the link, its sender or its receiver clogged?
    pub(crate) fn is_clogged(&self, source: NodeId, target: NodeId) -> bool {
        if self.clogs == 0 || source == target {
            return false;
        }
        let link_clogged = self
            .links
            .get(source, target)
            .is_some_and(|link| link.blocked & CLOGGED != 0);
        link_clogged || self.clogged_nodes[source.index()] || self.clogged_nodes[target.index()]
    }

    /// Would a message sent on the link now get through, as far as faults go: the
    /// link is not cut by a partition, neither it nor its ends are clogged, and it does
    /// not lose every message. (Whether its ends are up is the caller's question.)
    pub(crate) fn can_send(&self, source: NodeId, target: NodeId) -> bool {
        if source == target {
            return true;
        }
        let index = self.overrides.get(&(source, target)).copied().unwrap_or(0);
        self.topology.connected(source, target)
            && !self.is_clogged(source, target)
            && !self.settings[usize::from(index)].config.loss.is_always()
    }

    /// Messages currently in flight on a link.
    #[cfg(test)]
    pub(crate) fn in_flight(&self, source: NodeId, target: NodeId) -> u32 {
        self.links
            .get(source, target)
            .map_or(0, |link| link.in_flight)
    }

    pub(crate) fn clog_node(&mut self, node: NodeId, clogged: bool) {
        let flag = &mut self.clogged_nodes[node.index()];
        if *flag != clogged {
            *flag = clogged;
            self.count_clog(clogged);
        }
    }

    pub(crate) fn clog_link(&mut self, source: NodeId, target: NodeId, clogged: bool) {
        let link = self.link(source, target);
        if (link.blocked & CLOGGED != 0) != clogged {
            link.blocked ^= CLOGGED;
            self.count_clog(clogged);
        }
    }

    fn count_clog(&mut self, added: bool) {
        if added {
            self.clogs += 1;
        } else {
            self.clogs -= 1;
        }
        self.refresh_unusual();
    }

    /// Recounts what keeps deliveries off the fast path.
    fn refresh_unusual(&mut self) {
        self.unusual = self.clogs + self.cut_in_flight.len();
    }

    /// Removes every clog of nodes and links.
    pub(crate) fn unclog_all(&mut self) {
        self.clogged_nodes.iter_mut().for_each(|flag| *flag = false);
        self.links.for_each_mut(|link| link.blocked &= !CLOGGED);
        self.clogs = 0;
        self.refresh_unusual();
    }

    /// Applies topology changes to the link table's `CUT` bits.
    fn mirror(&mut self, changes: Vec<EdgeChange>, sequence: u64) -> Vec<EdgeChange> {
        for &(source, target, up) in &changes {
            let Some(link) = self.links.get_mut(source, target) else {
                continue; // a link without state is fresh: it reads the topology when made
            };
            if up {
                link.blocked &= !CUT;
            } else {
                link.blocked |= CUT;
                if link.in_flight > 0 {
                    self.cut_in_flight
                        .insert((source, target), (sequence, link.in_flight));
                }
            }
            if up {
                let fifo = self.settings[usize::from(link.config)].config.fifo;
                self.links.release(source, target, fifo);
            }
        }
        self.refresh_unusual();
        changes
    }

    /// Cuts links as `partition` says; returns the edges that went down. Messages in
    /// flight on them (queued before `sequence`, the event queue's next number) are
    /// lost when they arrive.
    pub(crate) fn partition(&mut self, partition: &Partition, sequence: u64) -> Vec<EdgeChange> {
        let changes = self.topology.partition(partition);
        self.mirror(changes, sequence)
    }

    /// Restores every base link; returns the edges that came back.
    pub(crate) fn heal(&mut self) -> Vec<EdgeChange> {
        let changes = self.topology.heal();
        self.mirror(changes, 0)
    }

    /// Restores the links of one node; returns the edges that came back.
    pub(crate) fn heal_node(&mut self, node: NodeId) -> Vec<EdgeChange> {
        let changes = self.topology.heal_node(node);
        self.mirror(changes, 0)
    }
}

/// Puts a message on a link whose settings are plain (no loss, duplication, reordering or
/// FIFO order): checks the cut and the queue, draws the latency. `None` if the link's
/// settings are not plain, for [`Network::route_faulty`]. (The dense path of
/// [`Network::route`] does the same in line.)
fn send_plain(
    link: &mut LinkState,
    settings: &[Settings],
    rng: &mut SimRng,
    stats: &mut NetworkStats,
    departure: SimTime,
) -> Option<Arrivals> {
    let settings = &settings[usize::from(link.config)];
    if link.blocked & CUT != 0 {
        stats.dropped_partition += 1;
        return Some(Arrivals::NONE);
    }
    if !settings.plain {
        return None;
    }
    if link.in_flight >= settings.config.queue_capacity {
        stats.dropped_overflow += 1;
        return Some(Arrivals::NONE);
    }
    link.in_flight += 1;
    let delay = settings.config.latency.sample(rng);
    Some(Arrivals::one(departure + delay))
}

/// The state of a link that has none: its settings, and cut if the topology says so.
fn fresh(
    topology: &Topology,
    overrides: &BTreeMap<(NodeId, NodeId), u16>,
    source: NodeId,
    target: NodeId,
) -> LinkState {
    LinkState {
        config: if overrides.is_empty() {
            0
        } else {
            overrides.get(&(source, target)).copied().unwrap_or(0)
        },
        blocked: if topology.connected(source, target) {
            0
        } else {
            CUT
        },
        ..LinkState::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn network(nodes: u32, link: LinkConfig) -> Network {
        let config = NetworkConfig {
            default_link: link,
            ..NetworkConfig::default()
        };
        let mut network = Network::new(&config, SimRng::new(1, "network"));
        for _ in 0..nodes {
            network.add_node();
        }
        network
    }

    const A: NodeId = NodeId(0);
    const B: NodeId = NodeId(1);

    fn send(network: &mut Network, at_ms: u64) -> Arrivals {
        network.route(SimTime::from_millis(at_ms), A, B, SimDuration::ZERO)
    }

    #[test]
    fn a_healthy_link_delivers_after_its_latency() {
        let mut net = network(2, LinkConfig::default());
        let arrivals = send(&mut net, 5);
        assert_eq!(arrivals.first, Some(SimTime::from_millis(6)));
        assert_eq!(arrivals.second, None);
        assert_eq!(net.in_flight(A, B), 1);
        assert_eq!(net.arrive(A, B, 0), Arrival::Deliver);
        assert_eq!(net.in_flight(A, B), 0);
    }

    #[test]
    fn certain_loss_drops_everything_and_counts_it() {
        let mut net = network(
            2,
            LinkConfig {
                loss: Chance::ALWAYS,
                ..LinkConfig::default()
            },
        );
        for at in 0..10 {
            assert_eq!(send(&mut net, at).first, None);
        }
        assert_eq!(net.stats.dropped_loss, 10);
    }

    #[test]
    fn partial_loss_drops_about_its_share() {
        let mut net = network(
            2,
            LinkConfig {
                loss: Chance::percent(30),
                queue_capacity: u32::MAX,
                ..LinkConfig::default()
            },
        );
        let delivered = (0..10_000)
            .filter(|&t| send(&mut net, t).first.is_some())
            .count();
        assert!((6_600..7_400).contains(&delivered), "delivered {delivered}");
    }

    #[test]
    fn duplication_sends_a_second_copy_with_its_own_latency() {
        let mut net = network(
            2,
            LinkConfig {
                latency: Latency::Uniform {
                    min: SimDuration::from_millis(1),
                    max: SimDuration::from_millis(50),
                },
                duplicate: Chance::ALWAYS,
                ..LinkConfig::default()
            },
        );
        let arrivals: Vec<Arrivals> = (0..20).map(|_| send(&mut net, 0)).collect();
        assert!(arrivals.iter().all(|a| a.second.is_some()));
        assert!(arrivals.iter().any(|a| a.first != a.second));
        assert_eq!(net.stats.duplicated, 20);
        assert_eq!(net.in_flight(A, B), 40);
    }

    #[test]
    fn a_full_queue_drops_and_counts_overflow() {
        let mut net = network(
            2,
            LinkConfig {
                queue_capacity: 3,
                ..LinkConfig::default()
            },
        );
        let delivered = (0..5).filter(|_| send(&mut net, 0).first.is_some()).count();
        assert_eq!(delivered, 3);
        assert_eq!(net.stats.dropped_overflow, 2);
        net.arrive(A, B, 0);
        assert!(send(&mut net, 1).first.is_some(), "a delivery frees a slot");
    }

    #[test]
    fn fifo_links_never_let_a_later_message_overtake() {
        let mut net = network(
            2,
            LinkConfig {
                latency: Latency::Uniform {
                    min: SimDuration::from_millis(1),
                    max: SimDuration::from_millis(100),
                },
                fifo: true,
                ..LinkConfig::default()
            },
        );
        let times: Vec<SimTime> = (0..200).map(|t| send(&mut net, t).first.unwrap()).collect();
        assert!(times.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn reordering_holds_some_messages_back_even_on_fifo_links() {
        let mut net = network(
            2,
            LinkConfig {
                fifo: true,
                reorder: Chance::percent(50),
                reorder_delay_max: SimDuration::from_millis(20),
                ..LinkConfig::default()
            },
        );
        let times: Vec<SimTime> = (0..100).map(|t| send(&mut net, t).first.unwrap()).collect();
        assert!(
            times.windows(2).any(|w| w[0] > w[1]),
            "nothing was reordered"
        );
        assert!(net.stats.reordered > 20);
    }

    #[test]
    fn partitions_cut_at_send_and_in_flight() {
        let mut net = network(3, LinkConfig::default());
        send(&mut net, 0);
        net.partition(&Partition::Isolate(B), 1);
        assert_eq!(net.arrive(A, B, 0), Arrival::Cut, "in flight when cut");
        assert_eq!(send(&mut net, 1).first, None, "sent after the cut");
        assert_eq!(net.stats.dropped_partition, 2);
        assert_eq!(net.in_flight(A, B), 0);
    }

    #[test]
    fn clogs_hold_messages_until_cleared() {
        let mut net = network(3, LinkConfig::default());
        send(&mut net, 0);
        net.clog_node(B, true);
        assert_eq!(net.arrive(A, B, 0), Arrival::Clogged);
        assert_eq!(net.in_flight(A, B), 1, "a held message is still in flight");
        net.clog_node(B, false);
        net.clog_link(A, B, true);
        assert!(net.is_clogged(A, B));
        assert!(!net.is_clogged(B, A), "a link clog is one-way");
        net.unclog_all();
        assert_eq!(net.arrive(A, B, 0), Arrival::Deliver);
    }

    #[test]
    fn per_link_overrides_apply_only_to_their_link() {
        let slow = LinkConfig::with_latency(Latency::Constant(SimDuration::from_millis(50)));
        let config = NetworkConfig {
            links: vec![LinkOverride {
                source: A,
                target: B,
                config: slow,
            }],
            ..NetworkConfig::default()
        };
        let mut net = Network::new(&config, SimRng::new(1, "network"));
        for _ in 0..2 {
            net.add_node();
        }
        let now = SimTime::ZERO;
        assert_eq!(
            net.route(now, A, B, SimDuration::ZERO).first,
            Some(SimTime::from_millis(50))
        );
        assert_eq!(
            net.route(now, B, A, SimDuration::ZERO).first,
            Some(SimTime::from_millis(1))
        );
    }

    /// One step of the dense-versus-sparse comparison.
    #[derive(Clone, Debug)]
    enum Op {
        Send(u32, u32),
        Arrive,
        Partition(Partition),
        Heal,
        HealNode(u32),
        Clog(u32, bool),
        ClogLink(u32, u32, bool),
        UnclogAll,
        SlowLink(u32, u32),
    }

    fn op(n: u32) -> impl proptest::strategy::Strategy<Value = Op> {
        use proptest::prelude::*;
        let node = move || (0..n).prop_map(NodeId);
        prop_oneof![
            6 => (0..n, 0..n).prop_map(|(a, b)| Op::Send(a, b)),
            6 => Just(Op::Arrive),
            1 => prop::collection::vec(prop::collection::vec(node(), 1..3), 1..3)
                .prop_map(|g| Op::Partition(Partition::Groups(g))),
            1 => node().prop_map(|x| Op::Partition(Partition::Isolate(x))),
            1 => (node(), node()).prop_map(|(a, b)| Op::Partition(Partition::OneWay { from: vec![a], to: vec![b] })),
            1 => Just(Op::Heal),
            1 => (0..n).prop_map(Op::HealNode),
            1 => (0..n, any::<bool>()).prop_map(|(x, c)| Op::Clog(x, c)),
            1 => (0..n, 0..n, any::<bool>()).prop_map(|(a, b, c)| Op::ClogLink(a, b, c)),
            1 => Just(Op::UnclogAll),
            1 => (0..n, 0..n).prop_map(|(a, b)| Op::SlowLink(a, b)),
        ]
    }

    /// Applies `op` to `net`, with the messages in flight in `pending`; returns what the
    /// network answered, for comparison.
    /// (`sequence` numbers the operations, as the event queue numbers events.)
    fn apply(
        net: &mut Network,
        pending: &mut Vec<(SimTime, NodeId, NodeId, u64)>,
        op: &Op,
        sequence: u64,
    ) -> String {
        let now = pending.iter().map(|p| p.0).min().unwrap_or(SimTime::ZERO);
        match op {
            Op::Send(a, b) => {
                let arrivals = net.route(now, NodeId(*a), NodeId(*b), SimDuration::ZERO);
                for at in [arrivals.first, arrivals.second].into_iter().flatten() {
                    pending.push((at, NodeId(*a), NodeId(*b), sequence));
                }
                format!("{arrivals:?}")
            }
            Op::Arrive => {
                let Some(first) = (0..pending.len()).min_by_key(|&i| pending[i].0) else {
                    return "nothing in flight".to_string();
                };
                let (_, a, b, sent) = pending.remove(first);
                format!("{:?}", net.arrive(a, b, sent))
            }
            Op::Partition(p) => format!("{:?}", net.partition(p, sequence)),
            Op::Heal => format!("{:?}", net.heal()),
            Op::HealNode(x) => format!("{:?}", net.heal_node(NodeId(*x))),
            Op::Clog(x, clogged) => {
                net.clog_node(NodeId(*x), *clogged);
                String::new()
            }
            Op::ClogLink(a, b, clogged) => {
                if a != b {
                    net.clog_link(NodeId(*a), NodeId(*b), *clogged);
                }
                String::new()
            }
            Op::UnclogAll => {
                net.unclog_all();
                String::new()
            }
            Op::SlowLink(a, b) => {
                let slow = LinkConfig {
                    fifo: true,
                    queue_capacity: 2,
                    ..LinkConfig::with_latency(Latency::Constant(SimDuration::from_millis(7)))
                };
                net.set_link(NodeId(*a), NodeId(*b), slow);
                String::new()
            }
        }
    }

    proptest::proptest! {
        /// A sparse link table and a dense one give every message the same fate and count
        /// the same, through any sequence of sends, deliveries, partitions, clogs and link
        /// changes.
        #[test]
        fn sparse_and_dense_link_tables_run_alike(ops in proptest::collection::vec(op(6), 0..120)) {
            let link = LinkConfig {
                latency: Latency::Uniform { min: SimDuration::from_millis(1), max: SimDuration::from_millis(9) },
                loss: Chance::percent(10),
                duplicate: Chance::percent(10),
                queue_capacity: 3,
                ..LinkConfig::default()
            };
            let config = NetworkConfig { default_link: link, ..NetworkConfig::default() };
            let rng = || SimRng::new(7, "network");
            let mut dense = Network::with_links(&config, rng(), LinkTable::new());
            let mut sparse = Network::with_links(&config, rng(), LinkTable::with_dense_limit(0));
            for _ in 0..6 {
                dense.add_node();
                sparse.add_node();
            }
            let (mut in_dense, mut in_sparse) = (Vec::new(), Vec::new());
            for (sequence, op) in (1_u64..).zip(&ops) {
                let a = apply(&mut dense, &mut in_dense, op, sequence);
                let b = apply(&mut sparse, &mut in_sparse, op, sequence);
                proptest::prop_assert_eq!(a, b, "{:?}", op);
                proptest::prop_assert_eq!(&dense.stats, &sparse.stats);
            }
            for a in 0..6 {
                for b in 0..6 {
                    let (a, b) = (NodeId(a), NodeId(b));
                    proptest::prop_assert_eq!(dense.in_flight(a, b), sparse.in_flight(a, b));
                    proptest::prop_assert_eq!(dense.is_clogged(a, b), sparse.is_clogged(a, b));
                }
            }
        }
    }

    #[test]
    fn a_sparse_table_keeps_only_the_links_that_carry_messages() {
        let config = NetworkConfig::default();
        let mut net = Network::with_links(
            &config,
            SimRng::new(1, "network"),
            LinkTable::with_dense_limit(0),
        );
        for _ in 0..1_000 {
            net.add_node();
        }
        for target in 1..1_000 {
            net.route(SimTime::ZERO, A, NodeId(target), SimDuration::ZERO);
        }
        assert_eq!(net.links.stored(), 999, "one state per link in use");
        for target in 1..1_000 {
            assert_eq!(net.arrive(A, NodeId(target), 0), Arrival::Deliver);
        }
        assert_eq!(
            net.links.stored(),
            0,
            "delivered links are fresh again, and forgotten"
        );
        net.clog_link(A, B, true);
        assert_eq!(net.links.stored(), 1, "a clogged link keeps its state");
    }
}
