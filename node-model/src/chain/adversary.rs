//! Byzantine behaviour, for testing that honest nodes tolerate it.
//!
//! As with the node software blockchain teams run, misbehaviour needs two explicit
//! consents: the crate feature `adversarial` must be compiled in, and the scenario must
//! ask for an adversary by name for a given node. Without the feature, asking is refused
//! with a message saying how to enable it; the behaviour code itself is not compiled.
//!
//! Every adversary reports `ChainEvent::Attack` when it acts, so that a test can assert
//! that the attack really happened (a "sometimes" check) and cannot pass vacuously.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::chain::config::ConfigError;

/// A named byzantine behaviour.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Adversary {
    /// Produces two different blocks at its heights and sends each to half the peers.
    Equivocate,
    /// Produces blocks but never sends them to anyone.
    WithholdBlocks,
    /// Never sends its endorsements.
    WithholdEndorsements,
    /// Produces a block at every height, whether scheduled or not.
    ProduceOutOfTurn,
    /// Sends transactions whose signatures do not verify.
    InvalidSignatures,
    /// Sends already-applied transactions again (replayed nonces), and includes them in
    /// its own blocks.
    ReplayNonces,
    /// Sends old blocks and endorsements again.
    ReplayMessages,
}

impl Adversary {
    /// Every adversary.
    pub const ALL: [Adversary; 7] = [
        Adversary::Equivocate,
        Adversary::WithholdBlocks,
        Adversary::WithholdEndorsements,
        Adversary::ProduceOutOfTurn,
        Adversary::InvalidSignatures,
        Adversary::ReplayNonces,
        Adversary::ReplayMessages,
    ];

    /// The name scenarios use.
    pub fn name(self) -> &'static str {
        match self {
            Adversary::Equivocate => "equivocate",
            Adversary::WithholdBlocks => "withhold_blocks",
            Adversary::WithholdEndorsements => "withhold_endorsements",
            Adversary::ProduceOutOfTurn => "produce_out_of_turn",
            Adversary::InvalidSignatures => "invalid_signatures",
            Adversary::ReplayNonces => "replay_nonces",
            Adversary::ReplayMessages => "replay_messages",
        }
    }

    /// Does this behaviour need a validator (block production or votes)?
    pub fn needs_validator(self) -> bool {
        !matches!(
            self,
            Adversary::InvalidSignatures | Adversary::ReplayNonces | Adversary::ReplayMessages
        )
    }

    /// Refuses the adversary unless the `adversarial` feature is compiled in and the
    /// node can play it.
    pub fn check_allowed(self, is_validator: bool) -> Result<(), ConfigError> {
        if !cfg!(feature = "adversarial") {
            return Err(ConfigError::Adversary(format!(
                "adversary `{self}` requested, but this build has no adversarial behaviour: \
                 rebuild with `--features adversarial` (consent to run byzantine nodes)"
            )));
        }
        if self.needs_validator() && !is_validator {
            return Err(ConfigError::Adversary(format!(
                "adversary `{self}` needs a validator, but the node is an observer"
            )));
        }
        Ok(())
    }
}

impl fmt::Display for Adversary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Adversary {
    type Err = String;

    fn from_str(name: &str) -> Result<Adversary, String> {
        Adversary::ALL
            .into_iter()
            .find(|adversary| adversary.name() == name)
            .ok_or_else(|| {
                let names: Vec<&str> = Adversary::ALL.iter().map(|a| a.name()).collect();
                format!(
                    "unknown adversary `{name}`; expected one of: {}",
                    names.join(", ")
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for adversary in Adversary::ALL {
            assert_eq!(adversary.name().parse::<Adversary>(), Ok(adversary));
        }
        let error = "sneaky".parse::<Adversary>().unwrap_err();
        assert!(error.contains("equivocate"), "{error}");
    }

    #[test]
    #[cfg(not(feature = "adversarial"))]
    fn adversaries_are_refused_without_the_feature() {
        let error = Adversary::Equivocate
            .check_allowed(true)
            .unwrap_err()
            .to_string();
        assert!(error.contains("--features adversarial"), "{error}");
    }

    #[test]
    #[cfg(feature = "adversarial")]
    fn validator_only_adversaries_are_refused_for_observers() {
        assert!(Adversary::ReplayMessages.check_allowed(false).is_ok());
        let error = Adversary::Equivocate
            .check_allowed(false)
            .unwrap_err()
            .to_string();
        assert!(error.contains("observer"), "{error}");
    }
}
