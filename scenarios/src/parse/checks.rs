//! The workload and the checks.

use node_model::chain::ChainConfig;
use sim_core::SimDuration;

use super::{NodeNames, Parser};
use crate::error::InputError;
use crate::file::{FinalFile, ScenarioFile, SometimesFile, WorkloadFile};
use crate::model::{Checks, Cluster, FinalAssertion, Protocol, Sometimes, Workload};

/// Invariant names, by protocol.
pub(crate) fn invariant_names(protocol: Protocol) -> &'static [&'static str] {
    match protocol {
        Protocol::Chain => &[
            "finality agreement",
            "supply conserved",
            "nonces increase",
            "epoch agreement",
        ],
        Protocol::Raft => &[
            "raft: election safety",
            "raft: log matching",
            "raft: leader completeness",
            "raft: state machine safety",
            "raft: linearizability",
        ],
    }
}

impl Parser<'_> {
    pub(crate) fn workload(
        &self,
        file: &ScenarioFile,
        cluster: &Cluster,
        duration: SimDuration,
    ) -> Result<Option<Workload>, InputError> {
        let Some(table) = &file.workload else {
            return Ok(None);
        };
        let rate_text = table.rate.as_ref().ok_or_else(|| {
            InputError::new("the workload has no `rate`")
                .with_help("add `rate = 10` (requests per second) to [workload]")
        })?;
        let rate = *rate_text.get_ref();
        if !(rate > 0.0 && rate <= 100_000.0) {
            return Err(self
                .error(rate_text.span(), format!("rate = {rate} is out of range"))
                .with_help("use a rate above 0 and at most 100000 per second"));
        }
        let start = table
            .start
            .as_ref()
            .map_or(Ok(SimDuration::ZERO), |t| self.duration(t))?;
        let end = table
            .end
            .as_ref()
            .map_or(Ok(duration), |t| self.duration(t))?;
        if start > end {
            let span = table.start.as_ref().map_or(0..0, toml::Spanned::span);
            return Err(self.error(
                span,
                format!("the workload starts ({start}) after it ends ({end})"),
            ));
        }
        match cluster {
            Cluster::Chain(config) => self.chain_workload(table, config, rate, start, end),
            Cluster::Raft { .. } => self.raft_workload(table, rate, start, end),
        }
    }

    /// The chain half of [`Parser::workload`]: accounts must be genesis accounts.
    fn chain_workload(
        &self,
        table: &WorkloadFile,
        config: &ChainConfig,
        rate: f64,
        start: SimDuration,
        end: SimDuration,
    ) -> Result<Option<Workload>, InputError> {
        for (field, value) in [
            ("keys", &table.keys),
            ("reads_percent", &table.reads_percent),
            ("clients", &table.clients),
        ] {
            if let Some(value) = value {
                return Err(self
                    .error(value.span(), format!("`{field}` is for raft workloads"))
                    .with_help("chain workloads have `accounts` and `amount_max`"));
            }
        }
        let known: Vec<&String> = config.genesis.balances.keys().collect();
        let accounts = match &table.accounts {
            None => known.iter().map(|s| s.to_string()).collect(),
            Some(list) => {
                let mut accounts = Vec::new();
                for account in list {
                    if !known.contains(&account.get_ref()) {
                        let names: Vec<&str> = known.iter().map(|s| s.as_str()).collect();
                        return Err(self
                            .error(
                                account.span(),
                                format!("unknown account \"{}\"", account.get_ref()),
                            )
                            .with_help(format!("genesis accounts are: {}", names.join(", "))));
                    }
                    accounts.push(account.get_ref().clone());
                }
                accounts
            }
        };
        if accounts.len() < 2 {
            return Err(
                InputError::new("a chain workload needs at least two accounts")
                    .with_help("add accounts to [cluster.genesis.balances] or [workload] accounts"),
            );
        }
        Ok(Some(Workload::Chain {
            rate,
            start,
            end,
            accounts,
            amount_max: table.amount_max.unwrap_or(100),
        }))
    }

    /// The Raft half of [`Parser::workload`].
    fn raft_workload(
        &self,
        table: &WorkloadFile,
        rate: f64,
        start: SimDuration,
        end: SimDuration,
    ) -> Result<Option<Workload>, InputError> {
        if let Some(accounts) = &table.accounts {
            let span = accounts.first().map_or(0..0, toml::Spanned::span);
            return Err(self
                .error(span, "`accounts` is for chain workloads")
                .with_help("raft workloads have `keys`, `reads_percent` and `clients`"));
        }
        let keys = table
            .keys
            .as_ref()
            .map_or(Ok(4), |k| self.range(k, 1..=1_000_000, "keys"))?;
        let reads_percent = table
            .reads_percent
            .as_ref()
            .map_or(Ok(33), |r| self.range(r, 0..=100, "reads_percent"))?;
        let clients = table
            .clients
            .as_ref()
            .map_or(Ok(3), |c| self.range(c, 1..=10_000, "clients"))?;
        Ok(Some(Workload::Raft {
            rate,
            start,
            end,
            keys,
            reads_percent,
            clients,
        }))
    }

    pub(crate) fn checks(
        &self,
        file: &ScenarioFile,
        cluster: &Cluster,
        names: &NodeNames<'_>,
        protocol: Protocol,
    ) -> Result<Checks, InputError> {
        let table = &file.checks;
        let known = invariant_names(protocol);
        let invariants = match &table.invariants {
            None => known.iter().map(|s| s.to_string()).collect(),
            Some(list) => {
                let mut chosen = Vec::new();
                for name in list {
                    if !known.contains(&name.get_ref().as_str()) {
                        return Err(self
                            .error(
                                name.span(),
                                format!("unknown invariant \"{}\"", name.get_ref()),
                            )
                            .with_help(format!(
                                "{protocol} invariants are: {}",
                                known.join(", ")
                            )));
                    }
                    chosen.push(name.get_ref().clone());
                }
                chosen
            }
        };
        let mut finals = Vec::new();
        for entry in &table.finals {
            finals.push(self.final_assertion(entry, cluster, names)?);
        }
        let mut sometimes = Vec::new();
        for entry in &table.sometimes {
            sometimes.push(self.sometimes(entry, protocol)?);
        }
        Ok(Checks {
            invariants,
            finals,
            sometimes,
        })
    }

    fn final_assertion(
        &self,
        entry: &toml::Spanned<FinalFile>,
        cluster: &Cluster,
        names: &NodeNames<'_>,
    ) -> Result<FinalAssertion, InputError> {
        let span = entry.span();
        let f = entry.get_ref();
        let chain = matches!(cluster, Cluster::Chain(_));
        let set = [
            f.min_final_height.is_some(),
            f.converged.is_some(),
            f.account.is_some() || f.balance.is_some(),
            f.validators.is_some(),
            f.kicked_out.is_some(),
            f.min_completed.is_some(),
        ];
        if f.converged == Some(false) {
            return Err(self
                .error(span, "`converged = false` asserts nothing")
                .with_help("write `converged = true`, or remove this check"));
        }
        if set.iter().filter(|s| **s).count() != 1 {
            return Err(self.error(span, "a final check takes exactly one assertion")
                .with_help("one of: min_final_height, converged, account + balance, validators, kicked_out, min_completed"));
        }
        let chain_only = |what: &str| -> Result<(), InputError> {
            if chain {
                Ok(())
            } else {
                Err(self.error(span.clone(), format!("`{what}` is for chain scenarios")))
            }
        };
        if let Some(height) = f.min_final_height {
            chain_only("min_final_height")?;
            return Ok(FinalAssertion::MinFinalHeight(height));
        }
        if f.converged.is_some() {
            return Ok(FinalAssertion::Converged);
        }
        if f.account.is_some() || f.balance.is_some() {
            chain_only("account")?;
            let (Some(account), Some(balance)) = (&f.account, f.balance) else {
                return Err(self.error(span, "a balance check needs both `account` and `balance`"));
            };
            return Ok(FinalAssertion::Balance {
                account: account.get_ref().clone(),
                balance,
            });
        }
        if let Some(count) = f.validators {
            chain_only("validators")?;
            return Ok(FinalAssertion::Validators(count));
        }
        if let Some(node) = &f.kicked_out {
            chain_only("kicked_out")?;
            return Ok(FinalAssertion::KickedOut(names.resolve(self, node)?));
        }
        if chain {
            return Err(self.error(span, "`min_completed` is for raft scenarios"));
        }
        Ok(FinalAssertion::MinCompleted(
            f.min_completed.expect("the one assertion set"),
        ))
    }

    fn sometimes(
        &self,
        entry: &toml::Spanned<SometimesFile>,
        protocol: Protocol,
    ) -> Result<Sometimes, InputError> {
        let span = entry.span();
        if protocol != Protocol::Chain {
            return Err(self.error(span, "sometimes checks are for chain scenarios"));
        }
        match (&entry.get_ref().attack, &entry.get_ref().rejected) {
            (Some(attack), None) => {
                let _: node_model::chain::Adversary = attack
                    .get_ref()
                    .parse()
                    .map_err(|m: String| self.error(attack.span(), m))?;
                Ok(Sometimes::Attack(attack.get_ref().clone()))
            }
            (None, Some(reason)) => Ok(Sometimes::Rejected(reason.get_ref().clone())),
            _ => Err(self.error(
                span,
                "a sometimes check takes exactly one of `attack` or `rejected`",
            )),
        }
    }
}
