//! A protocol in one file: nodes that ping each other, registered with detsim's tools.
//! (The crate docs of `scenarios` show this file; `cargo run -p scenarios --example
//! doc_protocol` runs it.)

use scenarios::{
    Case, HealPhase, Implementation, InputError, Liveness, NoTable, Protocol, Registry, Tables,
    Verdict, run_case,
};
use serde::{Deserialize, Serialize};
use sim_core::{Context, Node, NodeId, Sim, SimConfig, SimDuration, World};

/// A node that pings every peer every 100 ms and counts the pings it hears.
struct Pinger {
    heard: u64,
}

impl Node for Pinger {
    type Message = ();
    type Timer = ();
    type Observation = ();

    fn on_start(&mut self, ctx: &mut Context<'_, Self>) {
        ctx.set_timer(SimDuration::from_millis(100), ());
    }

    fn on_timer(&mut self, ctx: &mut Context<'_, Self>, (): ()) {
        ctx.broadcast(());
        ctx.set_timer(SimDuration::from_millis(100), ());
    }

    fn on_message(&mut self, _: &mut Context<'_, Self>, _: NodeId, (): ()) {
        self.heard += 1;
    }
}

/// The protocol's `[cluster]` table.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct Cluster {
    nodes: Option<u32>,
}

/// The protocol, as scenario files see it: `protocol = "ping"`.
struct Ping;

impl Protocol for Ping {
    type Cluster = Cluster;
    type Workload = NoTable;
    type Final = NoTable;
    type Sometimes = NoTable;
    /// What a checked scenario means: how many nodes.
    type Plan = u32;

    fn name(&self) -> &str {
        "ping"
    }

    fn invariants(&self) -> &[&str] {
        &["no ping from nowhere"]
    }

    fn plan(&self, tables: Tables<'_, Self>) -> Result<u32, InputError> {
        Ok(tables.cluster().nodes.unwrap_or(3))
    }

    fn node_names(&self, nodes: &u32) -> Vec<String> {
        (0..*nodes).map(|i| format!("pinger-{i}")).collect()
    }
}

/// Its implementation: how to build and judge a case.
struct Pingers;

impl Implementation<Ping> for Pingers {
    type Node = Pinger;
    type State = ();

    fn name(&self) -> &str {
        "pingers"
    }

    fn build(&self, case: &Case<'_, Ping>, config: SimConfig) -> (Sim<Pinger>, ()) {
        let mut sim = Sim::new(config);
        for _ in 0..*case.plan {
            sim.add_node(|_| Pinger { heard: 0 });
        }
        if case.checks("no ping from nowhere") {
            sim.always("no ping from nowhere", |world| {
                let heard: u64 = world.nodes().map(|(_, p)| p.heard).sum();
                let sent_max =
                    world.now().as_nanos() / 100_000_000 * u64::from(world.node_count()).pow(2);
                if heard <= sent_max {
                    Ok(())
                } else {
                    Err(format!("{heard} pings heard"))
                }
            });
        }
        (sim, ())
    }

    /// Once healed, every node of the core hears a ping again.
    fn liveness(
        &self,
        _: &Case<'_, Ping>,
        heal: &HealPhase,
        sim: &mut Sim<Pinger>,
        (): &mut (),
    ) -> Option<Liveness<Pinger>> {
        let before: Vec<(NodeId, u64)> = heal
            .core
            .iter()
            .map(|&id| (id, sim.node(id).map_or(0, |p| p.heard)))
            .collect();
        Some(Liveness::new(
            "every healed node hears a ping",
            move |world: &World<'_, Pinger>| {
                before
                    .iter()
                    .all(|&(id, heard)| world.node(id).is_some_and(|p| p.heard > heard))
            },
        ))
    }
}

fn main() {
    let mut registry = Registry::new();
    registry.protocol(Ping).implementation(Pingers);

    let scenario = registry
        .parse(
            r#"
            protocol = "ping"
            duration = "10s"
            [cluster]
            nodes = 4
            [[faults]]
            at = "2s"
            crash = "pinger-3"
            "#,
            None,
        )
        .expect("a valid scenario");
    let result = run_case(&scenario, "pingers", 1);
    assert_eq!(result.verdict, Verdict::Pass, "{}", result.summary());

    // Ping claims no fault kinds of its own, so it gets the crash-recovery default:
    // disk wipes and lying disks are refused, where they are written.
    let wipe = "protocol = \"ping\"\nduration = \"5s\"\n[[faults]]\nat = \"1s\"\nreset_data = \"pinger-0\"\n";
    let error = registry.parse(wipe, None).unwrap_err().to_string();
    assert!(
        error.contains("does not claim to survive `reset_data`"),
        "{error}"
    );

    // Pingers define no progress to judge while a quorum is connected: a scenario that
    // asks for it is told so in the report, not left to guess from an absence.
    let asks = "protocol = \"ping\"\nduration = \"2s\"\n[checks.while_connected]\n";
    let asked = run_case(&registry.parse(asks, None).unwrap(), "pingers", 1);
    let skipped = asked
        .sub_results
        .iter()
        .find(|s| s.kind == "whenever")
        .unwrap();
    assert!(
        skipped
            .detail
            .starts_with("not run: pingers defines no progress"),
        "{skipped:?}"
    );

    // A mistake in the protocol's own table is located like any other.
    let typo = "protocol = \"ping\"\nduration = \"1s\"\n[cluster]\nnode = 4\n";
    let error = registry.parse(typo, None).unwrap_err().to_string();
    assert!(
        error.starts_with("line 4, column 1: error: unknown field `node`"),
        "{error}"
    );
}
