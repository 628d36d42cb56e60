//! The registry: the protocols and implementations a program knows, type-erased for the
//! parser, the runner and the CLI.
//!
//! This is the one place where the generic [`Protocol`] and [`Implementation`] traits
//! meet the rest of the crate, which sees names and trait objects only.
//!
//! A program registers what it can run once, at start-up (`Counter` and `CounterImpl`
//! are a protocol and an implementation of your crate):
//!
//! ```ignore
//! let mut registry = Registry::new();
//! registry.protocol(Counter).implementation(CounterImpl);
//! ```
//!
//! and reads scenario files with it; an unknown protocol lists the registered ones:
//!
//! ```
//! let registry = scenarios::Registry::new();
//! let error = registry
//!     .parse("protocol = \"counter\"\nduration = \"10s\"\n", None)
//!     .unwrap_err();
//! assert!(error.to_string().contains("unknown protocol \"counter\""), "{error}");
//! ```

use std::any::Any;
use std::cell::RefCell;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;
use sim_core::{Divergence, SimDuration};

use crate::case::{Driven, RunOptions};
use crate::drive;
use crate::error::InputError;
use crate::file::{ScenarioFile, Spanned};
use crate::model::Scenario;
use crate::parse::{Source, validate};
use crate::protocol::{Case, FaultKinds, FaultModel, Implementation, Protocol, Tables};

/// The protocols a program can run, each with its implementations.
///
/// Build one at start-up and hand it to [`crate::cli::main`], or use it in tests to read
/// scenario files. Cheap to clone: the entries are shared.
#[derive(Clone, Default)]
pub struct Registry {
    protocols: Vec<Arc<dyn ErasedProtocol>>,
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut list = f.debug_map();
        for protocol in &self.protocols {
            list.entry(&protocol.name(), &protocol.implementation_names());
        }
        list.finish()
    }
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Registry {
        Registry::default()
    }

    /// Registers `protocol`; add its implementations to the entry this returns. Panics
    /// if a protocol of the same name is already registered.
    pub fn protocol<P: Protocol>(&mut self, protocol: P) -> &mut ProtocolEntry<P> {
        assert!(
            self.find(protocol.name()).is_none(),
            "a protocol named \"{}\" is already registered",
            protocol.name()
        );
        self.protocols.push(Arc::new(ProtocolEntry {
            protocol,
            implementations: Vec::new(),
        }));
        let entry =
            Arc::get_mut(self.protocols.last_mut().expect("just pushed")).expect("not shared yet");
        entry
            .as_any_mut()
            .downcast_mut()
            .expect("the entry just pushed")
    }

    /// The names of the registered protocols, in registration order.
    pub fn protocol_names(&self) -> Vec<&str> {
        self.protocols.iter().map(|p| p.name()).collect()
    }

    /// The names of every implementation of every protocol, in registration order.
    pub fn implementation_names(&self) -> Vec<String> {
        self.protocols
            .iter()
            .flat_map(|p| p.implementation_names())
            .collect()
    }

    fn find(&self, name: &str) -> Option<&Arc<dyn ErasedProtocol>> {
        self.protocols.iter().find(|p| p.name() == name)
    }

    /// Reads and validates the scenario file at `path`.
    pub fn load(&self, path: &Path) -> Result<Scenario, InputError> {
        let source = std::fs::read_to_string(path)
            .map_err(|error| InputError::new(format!("cannot read {}: {error}", path.display())))?;
        self.parse(&source, Some(path))
            .map_err(|error| error.in_file(path))
    }

    /// Parses and validates scenario text (`path` names the scenario when it has no
    /// name; errors do not name it: [`Registry::load`] does).
    pub fn parse(&self, source: &str, path: Option<&Path>) -> Result<Scenario, InputError> {
        if crate::discover::FileKind::of(source) == crate::discover::FileKind::Repro {
            return Err(InputError::new(
                "this is a repro file (one failing case), not a scenario file",
            )
            .with_help("replay it with `detsim repro FILE` (or your CLI's `repro`)"));
        }
        let file: ScenarioFile =
            toml::from_str(source).map_err(|error| InputError::from_toml(source, &error))?;
        self.validate(file, source, Nesting::Top, path)
    }

    /// Validates `file`, read from `source` (its spans point there, below `nesting`).
    pub(crate) fn validate(
        &self,
        file: ScenarioFile,
        source: &str,
        nesting: Nesting,
        path: Option<&Path>,
    ) -> Result<Scenario, InputError> {
        let located = Source::new(source);
        let name = file
            .protocol
            .as_ref()
            .ok_or_else(|| located.missing("protocol", &self.protocol_example()))?;
        let protocol = self.find(name.get_ref()).ok_or_else(|| {
            let known = self.protocol_names();
            let help = if known.is_empty() {
                "this program registers no protocol at all".to_string()
            } else {
                format!("this program knows: {}", known.join(", "))
            };
            located
                .error(
                    name.span(),
                    format!("unknown protocol \"{}\"", name.get_ref()),
                )
                .with_help(help)
        })?;
        validate(protocol, file, source, nesting, path)
    }

    fn protocol_example(&self) -> String {
        let first = self
            .protocol_names()
            .first()
            .copied()
            .unwrap_or("my-protocol");
        format!("protocol = \"{first}\"")
    }
}

/// Where a scenario sits in the file its spans point into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Nesting {
    /// At the top: a scenario file.
    Top,
    /// Under `[scenario]`: a repro file.
    Repro,
}

/// A protocol and its implementations, as registered.
pub struct ProtocolEntry<P: Protocol> {
    protocol: P,
    implementations: Vec<Box<dyn Runs<P>>>,
}

impl<P: Protocol> fmt::Debug for ProtocolEntry<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.implementations.iter().map(|i| i.name()).collect();
        f.debug_struct("ProtocolEntry")
            .field("protocol", &self.protocol.name())
            .field("implementations", &names)
            .finish()
    }
}

impl<P: Protocol> ProtocolEntry<P> {
    /// Adds an implementation. Panics if one of the same name is already registered.
    pub fn implementation<I: Implementation<P>>(&mut self, implementation: I) -> &mut Self {
        self.add(Box::new(Erased(implementation)))
    }

    /// Adds an implementation that this build does not include (it sits behind a cargo
    /// feature, say): scenarios may name it, and its cases are reported as skipped with
    /// `reason` (how to get it), never dropped silently.
    pub fn unavailable(&mut self, name: &str, reason: &str) -> &mut Self {
        self.add(Box::new(Unavailable {
            name: name.to_string(),
            reason: reason.to_string(),
        }))
    }

    fn add(&mut self, runs: Box<dyn Runs<P>>) -> &mut Self {
        assert!(
            self.implementations.iter().all(|i| i.name() != runs.name()),
            "the {} protocol already has an implementation named \"{}\"",
            self.protocol.name(),
            runs.name()
        );
        self.implementations.push(runs);
        self
    }

    fn implementation_named(&self, name: &str) -> &dyn Runs<P> {
        self.implementations
            .iter()
            .find(|i| i.name() == name)
            .map(Box::as_ref)
            .unwrap_or_else(|| panic!("no implementation \"{name}\" (checked by the caller)"))
    }

    fn plan_of<'a>(&self, scenario: &'a Scenario) -> &'a P::Plan {
        scenario
            .plan
            .downcast_ref()
            .expect("a scenario's plan comes from its own protocol")
    }

    /// The case of `scenario` (one of this protocol's) with `seed`.
    fn case<'a>(&self, scenario: &'a Scenario, seed: u64) -> Case<'a, P> {
        Case {
            plan: self.plan_of(scenario),
            scenario,
            seed,
        }
    }

    /// The protocol's tables of a scenario, read with the protocol's own types.
    fn tables(source: &str, nesting: Nesting) -> Result<ProtocolTables<P>, InputError> {
        let parsed = match nesting {
            Nesting::Top => toml::from_str::<ProtocolTables<P>>(source),
            Nesting::Repro => toml::from_str::<InRepro<P>>(source).map(|r| r.scenario),
        };
        parsed.map_err(|error| InputError::from_toml(source, &error))
    }
}

/// What a protocol's plan gives the generic validator.
pub(crate) struct Planned {
    pub(crate) plan: Arc<dyn Any + Send + Sync>,
    pub(crate) node_names: Vec<String>,
    pub(crate) runner: Option<String>,
    pub(crate) requests: u64,
    pub(crate) quorum: u32,
    pub(crate) message_kinds: Vec<&'static str>,
    pub(crate) events: Vec<&'static str>,
    pub(crate) fault_model: FaultModel,
}

/// A registered protocol, with its type erased.
pub(crate) trait ErasedProtocol: Any + Send + Sync {
    fn name(&self) -> &str;
    fn implementation_names(&self) -> Vec<String>;
    fn invariants(&self) -> Vec<String>;
    fn presets(&self) -> Vec<String>;
    fn fault_kinds(&self) -> FaultKinds;
    fn plan(
        &self,
        source: &str,
        nesting: Nesting,
        duration: SimDuration,
        preset: Option<&str>,
    ) -> Result<Planned, InputError>;
    fn version(&self, implementation: &str) -> Option<String>;
    fn unsupported(&self, scenario: &Scenario, implementation: &str) -> Option<String>;
    fn run(
        &self,
        scenario: &Scenario,
        implementation: &str,
        seed: u64,
        options: &RunOptions,
    ) -> Driven;
    fn check_determinism(
        &self,
        scenario: &Scenario,
        implementation: &str,
        seed: u64,
        options: &RunOptions,
    ) -> Result<u64, Box<Divergence>>;
    /// Smaller versions of the protocol's tables in `file`, as whole files.
    fn shrink(&self, file: &ScenarioFile) -> Vec<ScenarioFile>;
    fn as_any_mut(&mut self) -> &mut dyn Any;
}

impl<P: Protocol> ErasedProtocol for ProtocolEntry<P> {
    fn name(&self) -> &str {
        self.protocol.name()
    }

    fn implementation_names(&self) -> Vec<String> {
        self.implementations
            .iter()
            .map(|i| i.name().to_string())
            .collect()
    }

    fn invariants(&self) -> Vec<String> {
        owned(self.protocol.invariants())
    }

    fn presets(&self) -> Vec<String> {
        owned(self.protocol.presets())
    }

    fn fault_kinds(&self) -> FaultKinds {
        self.protocol.fault_kinds()
    }

    fn plan(
        &self,
        source: &str,
        nesting: Nesting,
        duration: SimDuration,
        preset: Option<&str>,
    ) -> Result<Planned, InputError> {
        let tables = Self::tables(source, nesting)?;
        let plan = self.protocol.plan(Tables {
            cluster: tables.cluster,
            workload: tables.workload,
            finals: tables.checks.finals,
            sometimes: tables.checks.sometimes,
            preset,
            duration,
            source: Source::new(source),
        })?;
        Ok(Planned {
            node_names: self.protocol.node_names(&plan),
            runner: self.protocol.runner(&plan).map(str::to_string),
            requests: self.protocol.requests(&plan),
            quorum: self.protocol.quorum(&plan),
            message_kinds: self.protocol.message_kinds(&plan),
            events: self.protocol.events(&plan),
            fault_model: self.protocol.fault_model(&plan),
            plan: Arc::new(plan),
        })
    }

    fn version(&self, implementation: &str) -> Option<String> {
        self.implementation_named(implementation).version()
    }

    fn unsupported(&self, scenario: &Scenario, implementation: &str) -> Option<String> {
        self.implementation_named(implementation)
            .unsupported(self.plan_of(scenario))
    }

    fn run(
        &self,
        scenario: &Scenario,
        implementation: &str,
        seed: u64,
        options: &RunOptions,
    ) -> Driven {
        self.implementation_named(implementation)
            .run(&self.case(scenario, seed), options)
    }

    fn check_determinism(
        &self,
        scenario: &Scenario,
        implementation: &str,
        seed: u64,
        options: &RunOptions,
    ) -> Result<u64, Box<Divergence>> {
        self.implementation_named(implementation)
            .check_determinism(&self.case(scenario, seed), options)
    }

    fn shrink(&self, file: &ScenarioFile) -> Vec<ScenarioFile> {
        let Ok(text) = toml::to_string(file) else {
            return Vec::new();
        };
        let Ok(tables) = Self::tables(&text, Nesting::Top) else {
            return Vec::new();
        };
        let cluster = tables
            .cluster
            .map_or_else(P::Cluster::default, Spanned::into_inner);
        let workload = tables.workload.map(Spanned::into_inner);
        self.protocol
            .shrink(&cluster, workload.as_ref())
            .into_iter()
            .filter_map(|smaller| {
                let mut candidate = file.clone();
                candidate.cluster = Some(to_table(&smaller.cluster)?);
                candidate.workload = match &smaller.workload {
                    Some(workload) => Some(to_table(workload)?),
                    None => None,
                };
                Some(candidate)
            })
            .collect()
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

fn owned(names: &[&str]) -> Vec<String> {
    names.iter().map(|name| name.to_string()).collect()
}

/// `value` as a TOML table, if it is one.
fn to_table(value: &impl serde::Serialize) -> Option<toml::Table> {
    toml::Table::try_from(value).ok()
}

/// The protocol's tables of a scenario file, read from its source with their spans
/// (everything else in the file is the generic validator's and is ignored here).
#[derive(Deserialize)]
#[serde(bound = "")]
struct ProtocolTables<P: Protocol> {
    #[serde(default)]
    cluster: Option<Spanned<P::Cluster>>,
    #[serde(default)]
    workload: Option<Spanned<P::Workload>>,
    #[serde(default)]
    checks: ProtocolChecks<P>,
}

#[derive(Deserialize)]
#[serde(bound = "")]
struct ProtocolChecks<P: Protocol> {
    #[serde(default, rename = "final")]
    finals: Vec<Spanned<P::Final>>,
    #[serde(default)]
    sometimes: Vec<Spanned<P::Sometimes>>,
}

impl<P: Protocol> Default for ProtocolChecks<P> {
    fn default() -> Self {
        ProtocolChecks {
            finals: Vec::new(),
            sometimes: Vec::new(),
        }
    }
}

/// A repro file's scenario, under `[scenario]`.
#[derive(Deserialize)]
#[serde(bound = "")]
struct InRepro<P: Protocol> {
    scenario: ProtocolTables<P>,
}

/// An implementation of `P`, with its node and state types erased.
trait Runs<P: Protocol>: Send + Sync {
    fn name(&self) -> &str;
    fn version(&self) -> Option<String>;
    fn unsupported(&self, plan: &P::Plan) -> Option<String>;
    fn run(&self, case: &Case<'_, P>, options: &RunOptions) -> Driven;
    fn check_determinism(
        &self,
        case: &Case<'_, P>,
        options: &RunOptions,
    ) -> Result<u64, Box<Divergence>>;
}

struct Erased<I>(I);

impl<P: Protocol, I: Implementation<P>> Runs<P> for Erased<I> {
    fn name(&self) -> &str {
        self.0.name()
    }

    fn version(&self) -> Option<String> {
        self.0.version()
    }

    fn unsupported(&self, plan: &P::Plan) -> Option<String> {
        self.0.unsupported(plan)
    }

    fn run(&self, case: &Case<'_, P>, options: &RunOptions) -> Driven {
        drive::drive(&self.0, case, options)
    }

    fn check_determinism(
        &self,
        case: &Case<'_, P>,
        options: &RunOptions,
    ) -> Result<u64, Box<Divergence>> {
        let state = RefCell::new(None);
        sim_core::check_determinism(
            || {
                let (sim, built) = drive::prepare(&self.0, case, options);
                *state.borrow_mut() = Some(built);
                sim
            },
            |sim| {
                let mut built = state.borrow_mut().take().expect("built before it runs");
                drive::run_phases(&self.0, case, sim, &mut built);
                Ok(())
            },
        )
    }
}

/// An implementation this build lacks.
struct Unavailable {
    name: String,
    reason: String,
}

impl<P: Protocol> Runs<P> for Unavailable {
    fn name(&self) -> &str {
        &self.name
    }

    fn version(&self) -> Option<String> {
        None
    }

    fn unsupported(&self, _: &P::Plan) -> Option<String> {
        Some(format!(
            "{} is not built into this program: {}",
            self.name, self.reason
        ))
    }

    fn run(&self, _: &Case<'_, P>, _: &RunOptions) -> Driven {
        unreachable!("unavailable implementations are skipped before they run")
    }

    fn check_determinism(&self, _: &Case<'_, P>, _: &RunOptions) -> Result<u64, Box<Divergence>> {
        unreachable!("unavailable implementations are skipped before they run")
    }
}
