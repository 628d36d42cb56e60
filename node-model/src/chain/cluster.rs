//! Building a simulated cluster of chain nodes from a config.

use std::rc::Rc;

use sim_core::{Sim, SimConfig};

use crate::chain::config::{ChainConfig, ConfigError};
use crate::chain::node::ChainNode;
use crate::chain::state::ChainSetup;

/// A simulation running every node of `config` (validators first, then observers) and
/// the shared genesis setup. Refuses an invalid config with what to change.
pub fn cluster(
    config: ChainConfig,
    sim_config: SimConfig,
) -> Result<(Sim<ChainNode>, Rc<ChainSetup>), ConfigError> {
    config.validate()?;
    let setup = Rc::new(ChainSetup::new(config));
    let mut sim = Sim::new(sim_config);
    for index in 0..setup.config.node_count() {
        let setup = Rc::clone(&setup);
        sim.add_node(move |_| ChainNode::new(Rc::clone(&setup), index));
    }
    Ok((sim, setup))
}
