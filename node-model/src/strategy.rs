//! [proptest] strategies for workloads (feature `proptest`): explicit lists of client
//! requests for the chain and for Raft.
//!
//! The workloads of [`crate::chain::TransferWorkload`] and [`crate::raft::Workload`]
//! draw their requests from a seed; these plans list them instead, so that a failing
//! property shrinks to *fewer and smaller requests*, each earlier and on lower-numbered
//! accounts, keys and clients. Pair them with `sim_core::strategy` for faults and
//! networks.
//!
//! ```
//! use proptest::prelude::*;
//! use proptest::test_runner::TestRunner;
//! use node_model::raft::{self, RaftConfig};
//! use node_model::strategy::request_plan;
//! use sim_core::{SimDuration, SimTime};
//!
//! let mut runner = TestRunner::default();
//! let plans = request_plan(4, 3, SimDuration::from_secs(5), 40);
//! runner
//!     .run(&(plans, any::<u64>()), |(plan, seed)| {
//!         let mut sim = raft::cluster(seed, 3, &RaftConfig::default());
//!         raft::checks::install(&mut sim);
//!         plan.schedule(&mut sim);
//!         prop_assert!(sim.run_to(SimTime::from_secs(6)).is_ok());
//!         Ok(())
//!     })
//!     .unwrap();
//! ```
//!
//! [proptest]: https://docs.rs/proptest

use std::rc::Rc;

use proptest::prelude::*;
use sim_core::{NodeId, Sim, SimDuration, SimTime};

use crate::chain::{ChainNode, ChainSetup, Wallet};
use crate::raft::{Key, Offer, Op, Replica, RequestId, replicas};

/// One transfer of a [`TransferPlan`]. Accounts are indices into the genesis accounts
/// (taken modulo their number; `to` skips `from`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedTransfer {
    /// When it is submitted.
    pub at: SimTime,
    /// The sender's index.
    pub from: usize,
    /// The receiver's index among the other accounts.
    pub to: usize,
    /// How much (at least 1).
    pub amount: u64,
    /// The node it is submitted to (taken modulo the node count).
    pub node: u32,
}

/// An explicit list of chain transfers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TransferPlan {
    /// The transfers, in any order.
    pub transfers: Vec<PlannedTransfer>,
}

impl TransferPlan {
    /// Schedules every transfer on `sim`, signed in plan order (so nonces follow it);
    /// returns how many. Does nothing with fewer than two accounts.
    pub fn schedule(&self, sim: &mut Sim<ChainNode>, setup: &Rc<ChainSetup>) -> u64 {
        let accounts = setup.accounts();
        if accounts.len() < 2 {
            return 0;
        }
        let mut wallet = Wallet::new(Rc::clone(setup));
        let nodes = sim.node_count();
        let mut count = 0;
        for transfer in &self.transfers {
            let from = transfer.from % accounts.len();
            let mut to = transfer.to % (accounts.len() - 1);
            if to >= from {
                to += 1;
            }
            let tx = wallet.transfer(&accounts[from], &accounts[to], transfer.amount.max(1));
            let node = NodeId(transfer.node % nodes);
            sim.schedule_call(transfer.at, node, move |node, ctx| {
                let _ = node.submit(ctx, tx);
            });
            count += 1;
        }
        count
    }
}

/// Up to `max` transfers among up to 16 accounts, submitted within `duration` to any
/// of `nodes` nodes, of amounts up to 100. Shrinks to fewer transfers, then earlier,
/// smaller ones between the first accounts, sent to node 0.
pub fn transfer_plan(
    nodes: u32,
    duration: SimDuration,
    max: usize,
) -> impl Strategy<Value = TransferPlan> {
    let duration_ms = (duration.as_nanos() / 1_000_000).max(1);
    let transfer = (
        0..duration_ms,
        0_usize..16,
        0_usize..16,
        1_u64..=100,
        0..nodes.max(1),
    )
        .prop_map(|(at_ms, from, to, amount, node)| PlannedTransfer {
            at: SimTime::from_millis(at_ms),
            from,
            to,
            amount,
            node,
        });
    proptest::collection::vec(transfer, 0..=max).prop_map(|transfers| TransferPlan { transfers })
}

/// One client request of a [`RequestPlan`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedRequest {
    /// When it is offered to the replicas.
    pub at: SimTime,
    /// The client that sends it.
    pub client: u32,
    /// The key it reads or writes.
    pub key: Key,
    /// A get (`true`) or a put.
    pub read: bool,
}

/// An explicit list of Raft client requests.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RequestPlan {
    /// The requests, in any order.
    pub requests: Vec<PlannedRequest>,
}

impl RequestPlan {
    /// Offers every request to the replicas (in id order; the leader takes it) and
    /// returns how many. Each client's requests are numbered in plan order, and each
    /// put writes its own position in the plan, so that no two puts write the same
    /// value (the linearizability checker needs that).
    pub fn schedule<N: Replica>(&self, sim: &mut Sim<N>) -> u64 {
        let replicas = replicas(sim);
        let mut sequences: Vec<u64> = Vec::new();
        for (number, planned) in self.requests.iter().enumerate() {
            let client = planned.client as usize;
            if sequences.len() <= client {
                sequences.resize(client + 1, 0);
            }
            let request = RequestId {
                client: planned.client,
                sequence: sequences[client],
            };
            sequences[client] += 1;
            let op = if planned.read {
                Op::Get { key: planned.key }
            } else {
                Op::Put {
                    key: planned.key,
                    value: number as u64,
                }
            };
            Offer::new(request, op).schedule(sim, planned.at, &replicas);
        }
        self.requests.len() as u64
    }
}

/// Up to `max` requests within `duration` over `keys` keys from `clients` clients, a
/// third of them reads. Shrinks to fewer requests, then earlier puts by client 0 on
/// key 0.
pub fn request_plan(
    keys: u32,
    clients: u32,
    duration: SimDuration,
    max: usize,
) -> impl Strategy<Value = RequestPlan> {
    let duration_ms = (duration.as_nanos() / 1_000_000).max(1);
    let request = (
        0..duration_ms,
        0..clients.max(1),
        0..keys.max(1),
        proptest::bool::weighted(1.0 / 3.0),
    )
        .prop_map(|(at_ms, client, key, read)| PlannedRequest {
            at: SimTime::from_millis(at_ms),
            client,
            key,
            read,
        });
    proptest::collection::vec(request, 0..=max).prop_map(|requests| RequestPlan { requests })
}

#[cfg(test)]
mod tests {
    use proptest::test_runner::{TestError, TestRunner};

    use super::*;
    use crate::chain::{self, ChainConfig};
    use crate::raft::{self, RaftConfig, RaftView};

    #[test]
    fn a_transfer_plan_shrinks_to_one_small_early_transfer() {
        // The "bug": a plan with two or more transfers of the same sender.
        let mut runner = TestRunner::deterministic();
        let result = runner.run(&transfer_plan(4, SimDuration::from_secs(30), 30), |plan| {
            let senders: Vec<usize> = plan.transfers.iter().map(|t| t.from).collect();
            let repeated = senders
                .iter()
                .enumerate()
                .any(|(i, s)| senders[i + 1..].contains(s));
            prop_assert!(!repeated);
            Ok(())
        });
        let Err(TestError::Fail(_, minimal)) = result else {
            panic!("the property should fail");
        };
        let smallest = PlannedTransfer {
            at: SimTime::ZERO,
            from: 0,
            to: 0,
            amount: 1,
            node: 0,
        };
        assert_eq!(minimal.transfers, vec![smallest.clone(), smallest]);
    }

    #[test]
    fn planned_transfers_are_submitted_and_executed() {
        let (mut sim, setup) =
            chain::cluster(ChainConfig::default(), sim_core::SimConfig::new(3)).unwrap();
        let accounts = setup.accounts();
        let plan = TransferPlan {
            transfers: (0..6)
                .map(|i| PlannedTransfer {
                    at: SimTime::from_millis(200 + 100 * i as u64),
                    from: i,
                    to: i,
                    amount: 5,
                    node: i as u32,
                })
                .collect(),
        };
        assert_eq!(plan.schedule(&mut sim, &setup), 6);
        sim.run_to(SimTime::from_secs(20)).unwrap();
        let node = sim.node(NodeId(0)).unwrap();
        let nonces: u64 = accounts
            .iter()
            .map(|a| node.account(a).map_or(0, |view| view.nonce))
            .sum();
        assert_eq!(nonces, 6, "every planned transfer was executed once");
    }

    #[test]
    fn planned_requests_reach_the_log_with_distinct_values() {
        let mut sim = raft::cluster(5, 3, &RaftConfig::default());
        raft::checks::install(&mut sim);
        let plan = RequestPlan {
            requests: (0..10)
                .map(|i| PlannedRequest {
                    at: SimTime::from_secs(2) + SimDuration::from_millis(50 * i),
                    client: (i % 2) as u32,
                    key: (i % 3) as u32,
                    read: i % 4 == 0,
                })
                .collect(),
        };
        assert_eq!(plan.schedule(&mut sim), 10);
        sim.run_to(SimTime::from_secs(5)).unwrap();
        let node = (0..3)
            .filter_map(|i| sim.node(NodeId(i)))
            .max_by_key(|node| node.commit_index())
            .unwrap();
        let commands: Vec<Op> = (1..=node.commit_index())
            .filter_map(|index| node.entry(index)?.command)
            .map(|command| command.op)
            .collect();
        assert_eq!(commands.len(), 10, "every request committed once");
        let mut values: Vec<u64> = commands
            .iter()
            .filter_map(|op| match op {
                Op::Put { value, .. } => Some(*value),
                Op::Get { .. } => None,
            })
            .collect();
        let puts = values.len();
        values.sort_unstable();
        values.dedup();
        assert_eq!(values.len(), puts, "no two puts write the same value");
        assert_eq!(puts, 7, "requests 0, 4 and 8 are reads");
    }
}
