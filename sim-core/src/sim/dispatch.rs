//! Handling each kind of event, and applying faults.

use crate::core::{Delivery, Event, TimerEvent};
use crate::disk::Effect;
use crate::fault::{ClogTarget, Fault, Moment, Strike};
use crate::network::Arrival;
use crate::node::{Node, NodeId, NodeStatus};
use crate::rng::fnv1a;
use crate::sim::Sim;
use crate::timer::TimerSlots;
use crate::topology::EdgeChange;
use crate::topology::Partition;
use crate::trace::StepKind;

/// What to do with an event addressed to a node, given the node's status.
enum Gate {
    Run,
    Defer,
    Drop,
}

impl<N: Node> Sim<N> {
    /// Handles one event; returns whether it was a step. Deliveries and timers, the
    /// bulk of every run, are inlined here; everything else is called out of line.
    #[inline(always)]
    /// `order` is the event's order key in the queue (its sequence number, which tells
    /// whether a message was sent before a cut).
    pub(super) fn dispatch(&mut self, event: Event<N::Message, N::Timer>, order: u64) -> bool {
        match event {
            Event::Deliver(delivery) => self.deliver(delivery, Some(order)),
            Event::Arrived(delivery) => self.deliver(delivery, None),
            Event::Timer(timer) => self.fire(timer),
            Event::Start { node } => self.start(node),
            Event::Fault(index) => {
                self.apply_fault(index);
                true
            }
            Event::LinkChange { node, peer, up } => self.link_change(node, peer, up),
            Event::Call { node, index } => self.run_call(node, index),
        }
    }

    #[inline]
    fn gate(&mut self, node: NodeId) -> Gate {
        match self.slots[node.index()].status {
            NodeStatus::Up => Gate::Run,
            NodeStatus::Paused => Gate::Defer,
            NodeStatus::Down => Gate::Drop,
        }
    }

    fn defer(&mut self, node: NodeId, event: Event<N::Message, N::Timer>) {
        self.stats.deferred_while_paused += 1;
        self.slots[node.index()].deferred.push(event);
    }

    /// Hands a message to its target; `order` is its queue order key if it is still on
    /// its link (`None` once it has arrived and waited for a paused target).
    #[inline(always)]
    fn deliver(&mut self, delivery: Delivery<N::Message>, order: Option<u64>) -> bool {
        let (source, target) = (delivery.route.source(), delivery.route.target());
        if let Some(order) = order {
            match self.core.network.arrive(source, target, order) {
                Arrival::Deliver => {}
                Arrival::Cut => return false,
                Arrival::Clogged => {
                    self.core.held.push((order, delivery));
                    return false;
                }
            }
        }
        match self.gate(target) {
            Gate::Run => {}
            Gate::Defer => {
                self.defer(target, Event::Arrived(delivery));
                return false;
            }
            Gate::Drop => {
                self.stats.dropped_at_down_node += 1;
                return false;
            }
        }
        self.stats.deliveries += 1;
        let message = delivery.message;
        self.begin_step(
            StepKind::Deliver,
            (Some(target), Some(source)),
            Some(delivery.sent_at),
            N::message_digest(&message),
            || format!("{message:?}"),
        );
        if self.slots[target.index()].env.disk.crash_point_armed() {
            let kind = N::message_kind(&message);
            self.with_node(target, |node, ctx| {
                node.on_message(ctx, source, message);
                ctx.env.disk.effect(Effect::Handled(kind));
            });
        } else {
            self.with_node(target, |node, ctx| node.on_message(ctx, source, message));
        }
        true
    }

    #[inline(always)]
    fn fire(&mut self, timer: TimerEvent<N::Timer>) -> bool {
        let node = timer.node;
        if !self.core.timers.is_pending(timer.id) {
            return false; // cancelled
        }
        let slot = &self.slots[node.index()];
        if timer.incarnation != slot.env.incarnation {
            self.core.timers.retire(timer.id); // died with a crash
            return false;
        }
        match self.gate(node) {
            Gate::Run => {}
            Gate::Defer => {
                self.defer(node, Event::Timer(timer));
                return false;
            }
            Gate::Drop => unreachable!("a down node's incarnation has moved on"),
        }
        self.core.timers.retire(timer.id);
        self.stats.timers += 1;
        let payload = timer.payload;
        let word = TimerSlots::trace_word(timer.id);
        self.begin_step(StepKind::Timer, (Some(node), None), None, word, || {
            format!("{payload:?}")
        });
        self.with_node(node, |state, ctx| state.on_timer(ctx, payload));
        true
    }

    #[inline(never)]
    fn start(&mut self, node: NodeId) -> bool {
        let slot = &mut self.slots[node.index()];
        if slot.unborn {
            // A spread start: the node is built now.
            slot.unborn = false;
            slot.node = Some((slot.factory)(node));
            slot.status = NodeStatus::Up;
            self.core.epoch += 1;
        }
        match self.gate(node) {
            Gate::Run => {}
            Gate::Defer => {
                self.defer(node, Event::Start { node });
                return false;
            }
            Gate::Drop => return false,
        }
        self.stats.starts += 1;
        self.begin_step(StepKind::Start, (Some(node), None), None, 0, || {
            "start".to_string()
        });
        self.with_node(node, |state, ctx| state.on_start(ctx));
        true
    }

    #[inline(never)]
    fn link_change(&mut self, node: NodeId, peer: NodeId, up: bool) -> bool {
        match self.gate(node) {
            Gate::Run => {}
            Gate::Defer => {
                self.defer(node, Event::LinkChange { node, peer, up });
                return false;
            }
            Gate::Drop => return false,
        }
        self.stats.link_changes += 1;
        let word = (u64::from(peer.0) << 1) | u64::from(up);
        self.begin_step(
            StepKind::LinkChange,
            (Some(node), Some(peer)),
            None,
            word,
            || format!("link to {peer} {}", if up { "up" } else { "down" }),
        );
        self.with_node(node, |state, ctx| state.on_link_change(ctx, peer, up));
        true
    }

    #[inline(never)]
    fn run_call(&mut self, node: NodeId, index: u32) -> bool {
        match self.gate(node) {
            Gate::Run => {}
            Gate::Defer => {
                self.defer(node, Event::Call { node, index });
                return false;
            }
            Gate::Drop => {
                self.stats.calls_dropped += 1;
                self.calls[index as usize] = None;
                return false;
            }
        }
        let call = self.calls[index as usize]
            .take()
            .expect("each call runs once");
        self.stats.calls += 1;
        self.begin_step(
            StepKind::Call,
            (Some(node), None),
            None,
            u64::from(index),
            || format!("call #{index}"),
        );
        self.with_node(node, call);
        true
    }

    #[inline(never)]
    fn apply_fault(&mut self, index: u32) {
        let fault = self.faults[index as usize]
            .take()
            .expect("each fault is applied once");
        let described = format!("{fault:?}");
        let node = fault.nodes().first().copied();
        self.stats.faults += 1;
        self.core.epoch += 1;
        self.begin_step(
            StepKind::Fault,
            (node, None),
            None,
            digest_of(&fault, &described),
            || described.clone(),
        );
        tracing::info!(t_ns = self.core.now.as_nanos(), fault = %described, "fault");
        self.apply(fault);
    }

    fn apply(&mut self, fault: Fault) {
        let now = self.core.now;
        match fault {
            Fault::Crash(node) => self.crash(node),
            Fault::Restart(node) => {
                let disk = &mut self.slots[node.index()].env.disk;
                disk.disarm_point_of(Strike::Crash);
                self.restart(node);
            }
            Fault::CrashPoint { node, .. } => self.arm(node, fault),
            Fault::ResetData(node) => {
                self.crash(node);
                self.slots[node.index()].env.disk.wipe();
            }
            Fault::Pause(node) => {
                let slot = &mut self.slots[node.index()];
                if slot.status == NodeStatus::Up {
                    slot.status = NodeStatus::Paused;
                }
            }
            Fault::Resume(node) => {
                let disk = &mut self.slots[node.index()].env.disk;
                disk.disarm_point_of(Strike::Pause);
                self.resume(node);
            }
            Fault::Partition(partition) => {
                let sequence = self.core.queue.next_sequence();
                let changes = self.core.network.partition(&partition, sequence);
                self.notify_links(&changes);
            }
            Fault::Heal => {
                for slot in &mut self.slots {
                    slot.env.disk.disarm_point_of(Strike::Isolate);
                }
                let changes = self.core.network.heal();
                self.notify_links(&changes);
            }
            Fault::HealNode(node) => {
                let disk = &mut self.slots[node.index()].env.disk;
                disk.disarm_point_of(Strike::Isolate);
                let changes = self.core.network.heal_node(node);
                self.notify_links(&changes);
            }
            Fault::Clog { target, duration } => {
                self.set_clog(target, true);
                if let Some(duration) = duration {
                    self.schedule(now + duration, Fault::Unclog(target));
                }
            }
            Fault::Unclog(target) => self.set_clog(target, false),
            Fault::UnclogAll => {
                self.core.network.unclog_all();
                self.release_held();
            }
            Fault::ClockSkew { node, offset_ns } => {
                self.slots[node.index()].env.clock.skew(now, offset_ns);
            }
            Fault::ClockDrift { node, ppm } => {
                self.slots[node.index()].env.clock.set_drift(now, ppm);
            }
            Fault::DiskFaults { node, faults } => {
                self.slots[node.index()].env.disk.set_faults(faults);
            }
            Fault::SetLink {
                source,
                target,
                config,
            } => self.core.network.set_link(source, target, *config),
        }
    }

    /// Arms the point `fault` on `node`, unless it is down.
    fn arm(&mut self, node: NodeId, fault: Fault) {
        let slot = &mut self.slots[node.index()];
        if let Fault::CrashPoint {
            after,
            on,
            down_for,
            strike,
            until,
            ..
        } = fault
            && slot.status != NodeStatus::Down
        {
            let disk = &mut slot.env.disk;
            disk.arm_crash_point(after, on, (down_for, strike, until));
        }
    }

    fn crash(&mut self, node: NodeId) {
        let slot = &mut self.slots[node.index()];
        if slot.status == NodeStatus::Down {
            return;
        }
        slot.node = None;
        slot.status = NodeStatus::Down;
        slot.env.incarnation += 1;
        slot.env.disk.crash();
        slot.deferred.clear();
    }

    /// After a handler: crashes, pauses or isolates the node if its point struck
    /// during it, and schedules the repair its `down_for` asks for.
    #[cold]
    #[inline(never)]
    pub(super) fn strike(&mut self, node: NodeId) {
        let disk = &mut self.slots[node.index()].env.disk;
        if !disk.crash_point_struck() {
            return;
        }
        let strike = disk.crash_point_strike().unwrap_or_default();
        let repair_at = disk.crash_point_repair_at(self.core.now);
        disk.disarm_point_of(strike);
        let repair = match strike {
            Strike::Crash => {
                self.crash(node);
                Fault::Restart(node)
            }
            Strike::Pause => {
                let slot = &mut self.slots[node.index()];
                if slot.status == NodeStatus::Up {
                    slot.status = NodeStatus::Paused;
                }
                Fault::Resume(node)
            }
            Strike::Isolate => {
                let sequence = self.core.queue.next_sequence();
                let changes = self
                    .core
                    .network
                    .partition(&Partition::Isolate(node), sequence);
                self.notify_links(&changes);
                Fault::HealNode(node)
            }
        };
        if let Some(back) = repair_at {
            self.schedule(back, repair);
        }
        self.stats.crash_points += 1;
        // Who is up and linked changed outside a fault's step: checks that cache by
        // the fault epoch must look again.
        self.core.epoch += 1;
        tracing::info!(
            t_ns = self.core.now.as_nanos(),
            node = node.0,
            strike = strike.point_name(),
            "crash point struck"
        );
    }

    fn restart(&mut self, node: NodeId) {
        let slot = &mut self.slots[node.index()];
        if slot.status != NodeStatus::Down || slot.unborn {
            return;
        }
        slot.node = Some((slot.factory)(node));
        slot.status = NodeStatus::Up;
        self.stats.starts += 1;
        self.with_node(node, |state, ctx| state.on_recover(ctx));
    }

    fn resume(&mut self, node: NodeId) {
        let slot = &mut self.slots[node.index()];
        if slot.status != NodeStatus::Paused {
            return;
        }
        slot.status = NodeStatus::Up;
        let now = self.core.now;
        for event in std::mem::take(&mut slot.deferred) {
            self.core.queue.push(now, event);
        }
    }

    fn set_clog(&mut self, target: ClogTarget, clogged: bool) {
        match target {
            ClogTarget::Node(node) => self.core.network.clog_node(node, clogged),
            ClogTarget::Link { source, target } => {
                self.core.network.clog_link(source, target, clogged);
            }
        }
        if !clogged {
            self.release_held();
        }
    }

    /// Re-queues, at the current time and in arrival order, every held message whose
    /// way is no longer clogged; one whose link was cut while it was held is lost.
    fn release_held(&mut self) {
        let now = self.core.now;
        for (order, delivery) in std::mem::take(&mut self.core.held) {
            let (source, target) = (delivery.route.source(), delivery.route.target());
            let network = &mut self.core.network;
            if network.was_cut_in_flight(source, target, order) {
                network.drop_held(source, target);
            } else if network.is_clogged(source, target) {
                self.core.held.push((order, delivery));
            } else {
                self.core.queue.push(now, Event::Deliver(delivery));
            }
        }
    }

    /// Tells the sending end of every changed link (if it is not down).
    fn notify_links(&mut self, changes: &[EdgeChange]) {
        let now = self.core.now;
        for &(node, peer, up) in changes {
            if self.slots[node.index()].status != NodeStatus::Down {
                self.core
                    .queue
                    .push(now, Event::LinkChange { node, peer, up });
            }
        }
    }
}

/// The digest a fault step feeds the trace hash: its `Debug` text, but for a crash point
/// that says no more than crash points could before moments, strikes and deadlines,
/// the text they had then, so that runs recorded then keep their trace hashes.
fn digest_of(fault: &Fault, described: &str) -> u64 {
    if let Fault::CrashPoint {
        node,
        after,
        on,
        down_for,
        strike: Strike::Crash,
        ..
    } = fault
    {
        let kind = match on {
            None => Some(None),
            Some(Moment::Sends(kind)) => Some(Some(kind)),
            Some(_) => None,
        };
        if let Some(kind) = kind {
            let old = format!(
                "CrashPoint {{ node: {node:?}, after: {after}, kind: {kind:?}, down_for: {down_for:?} }}"
            );
            return fnv1a(old.as_bytes());
        }
    }
    fnv1a(described.as_bytes())
}
