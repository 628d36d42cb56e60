//! Clients: wallets that sign transfers with increasing nonces, and a steady workload.

use std::collections::BTreeMap;
use std::rc::Rc;

use sim_core::{NodeId, Sim, SimDuration, SimRng, SimTime};

use crate::chain::node::ChainNode;
use crate::chain::state::ChainSetup;
use crate::chain::types::{AccountId, SignedTransaction, Transfer};

/// Signs transfers for accounts whose keys genesis handed to this client.
#[derive(Debug)]
pub struct Wallet {
    setup: Rc<ChainSetup>,
    nonces: BTreeMap<AccountId, u64>,
}

impl Wallet {
    /// A wallet holding every genesis account's key.
    pub fn new(setup: Rc<ChainSetup>) -> Wallet {
        Wallet {
            setup,
            nonces: BTreeMap::new(),
        }
    }

    /// A transfer of `amount` from `from` to `to`, signed, with `from`'s next nonce.
    pub fn transfer(&mut self, from: &str, to: &str, amount: u64) -> SignedTransaction {
        let nonce = self.nonces.entry(AccountId::from(from)).or_insert(0);
        *nonce += 1;
        let transfer = Transfer {
            signer: AccountId::from(from),
            receiver: AccountId::from(to),
            amount,
            nonce: *nonce,
        };
        SignedTransaction::sign(transfer, &self.setup.secret_key(from))
    }
}

/// Random transfers between `accounts` at a steady rate, each submitted to a random node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransferWorkload {
    /// First submission.
    pub start: SimTime,
    /// No submission after this.
    pub end: SimTime,
    /// The time between submissions.
    pub interval: SimDuration,
    /// Who sends and receives.
    pub accounts: Vec<AccountId>,
    /// The largest amount of one transfer.
    pub amount_max: u64,
}

impl TransferWorkload {
    /// Schedules the workload's submissions on `sim`, drawing from `rng`; returns how
    /// many it scheduled.
    pub fn schedule(
        &self,
        sim: &mut Sim<ChainNode>,
        setup: &Rc<ChainSetup>,
        rng: &mut SimRng,
    ) -> u64 {
        assert!(
            self.interval > SimDuration::ZERO,
            "a workload needs a positive interval"
        );
        if self.accounts.len() < 2 {
            return 0;
        }
        let mut wallet = Wallet::new(Rc::clone(setup));
        let nodes = sim.node_count();
        let mut at = self.start;
        let mut count = 0;
        while at <= self.end {
            let from = rng.below(self.accounts.len() as u64) as usize;
            let mut to = rng.below(self.accounts.len() as u64 - 1) as usize;
            if to >= from {
                to += 1;
            }
            let amount = rng.between(1, self.amount_max.max(1));
            let tx = wallet.transfer(&self.accounts[from], &self.accounts[to], amount);
            let node = NodeId(rng.below(u64::from(nodes)) as u32);
            sim.schedule_call(at, node, move |node, ctx| {
                let _ = node.submit(ctx, tx);
            });
            count += 1;
            at += self.interval;
        }
        count
    }
}
