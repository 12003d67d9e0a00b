//! The reads a plan needs, and the driver that makes plans with them (layer 8): refresh (the
//! state's objects, batched), the ownership tags of a region, the objects to import or adopt,
//! data sources, VPC ranges and quota counts. The plan itself is made by the plan layer's pure
//! planner ([`tunnelform_plan::make::Planning`]), which says what it needs read; [`plan_from`]
//! reads it and answers, until the plan is made.

use std::time::{Duration, Instant};

use tunnelform_config::Config;
use tunnelform_kinds::data::DataReads;
use tunnelform_model::Diagnostics;
use tunnelform_plan::make::{Answer, MakeError, Phase, Planning, Progress, Read};
use tunnelform_plan::GraphError;
use tunnelform_state::State;
use tunnelform_tencent_api::{ApiError, Client};

pub mod ownership;
pub mod refresh;

pub use refresh::{prefetch, read_objects, refresh, Prefetch, Refresh};
pub use tunnelform_plan::make::{
    PlanMode, PlanOptions, PlanTimings, Planned, QuotaError, QuotaOverrides, RemoteObject,
    RemoteSnapshot,
};

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("{0}")]
    Config(Diagnostics),
    #[error("reading the cloud failed: {0}")]
    Api(#[from] ApiError),
    #[error("{0}")]
    Graph(#[from] GraphError),
    #[error("planning without a connection to the cloud cannot {0}")]
    Offline(&'static str),
    /// The planner and its reader disagree on the reads (a bug).
    #[error("{0}")]
    Planner(String),
}

impl From<Diagnostics> for PlanError {
    fn from(d: Diagnostics) -> Self {
        PlanError::Config(d)
    }
}

impl From<MakeError> for PlanError {
    fn from(e: MakeError) -> Self {
        match e {
            MakeError::Config(d) => PlanError::Config(d),
            MakeError::Graph(g) => PlanError::Graph(g),
            e @ MakeError::Answers { .. } => PlanError::Planner(e.to_string()),
        }
    }
}

/// Makes a plan: reads the objects of the state while planning with them (see
/// [`make_plan_with`]).
pub async fn make_plan(
    client: &Client,
    config: &Config,
    state: &State,
    opts: &PlanOptions,
) -> Result<Planned, PlanError> {
    make_plan_with(client, config, state, opts, None).await
}

/// [`make_plan`], taking the reads [`prefetch`] started before the state was loaded. The
/// planning starts at once: it asks for each block's objects when it reaches the block
/// ([`Planning::refreshing`]), so the blocks are evaluated while the pages of the objects they
/// do not need yet are still being read.
pub async fn make_plan_with(
    client: &Client,
    config: &Config,
    state: &State,
    opts: &PlanOptions,
    ahead: Option<Prefetch>,
) -> Result<Planned, PlanError> {
    let started = Instant::now();
    let refresh = Refresh::start(client, state, ahead);
    let inputs = inputs(Some(client), config, state, opts);
    let planning = Planning::refreshing(inputs)?;
    drive(Some(client), started, planning, Some(refresh)).await
}

/// Makes a plan against objects already read (`remote`, the state's objects), reading what the
/// planner asks for. Without a client (offline), a plan that needs the cloud (a data source or an
/// import to read) fails with [`PlanError::Offline`], and a new state is not checked for objects
/// carrying its ownership tags.
pub async fn plan_from(
    client: Option<&Client>,
    config: &Config,
    state: &State,
    remote: RemoteSnapshot,
    opts: &PlanOptions,
) -> Result<Planned, PlanError> {
    let started = Instant::now();
    let planning = Planning::new(inputs(client, config, state, opts), remote)?;
    drive(client, started, planning, None).await
}

fn inputs<'a>(
    client: Option<&Client>,
    config: &'a Config,
    state: &'a State,
    opts: &'a PlanOptions,
) -> tunnelform_plan::make::Inputs<'a> {
    tunnelform_plan::make::Inputs {
        config,
        state,
        opts,
        online: client.is_some(),
    }
}

/// Steps `planning` to its end, answering its reads (the state's objects from `refresh`). The
/// phases are timed from `started`.
async fn drive(
    client: Option<&Client>,
    started: Instant,
    mut planning: Planning<'_>,
    mut refresh: Option<Refresh<'_>>,
) -> Result<Planned, PlanError> {
    let mut timings = PlanTimings::default();
    let mut lap = started;
    let mut reader = Reader::default();
    let mut answers = Vec::new();
    let mut planned = loop {
        let progress = planning.step(answers, &mut |phase: Phase| {
            *timings.slot(phase) = lap.elapsed();
            lap = Instant::now();
        })?;
        match progress {
            Progress::Done(planned) => break *planned,
            Progress::Need(reads) => {
                answers = reader.read(client, refresh.as_mut(), &reads).await?
            }
        }
    };
    timings.refresh = reader.refresh_waited;
    planned.timings = timings;
    Ok(planned)
}

/// Answers the planner's reads, in their order.
#[derive(Default)]
struct Reader {
    /// Data sources: at most one filtered read, then one paged listing, per source and region.
    data: DataReads,
    /// How long the planning waited for the state's objects.
    refresh_waited: Duration,
}

impl Reader {
    async fn read(
        &mut self,
        client: Option<&Client>,
        mut refresh: Option<&mut Refresh<'_>>,
        reads: &[Read],
    ) -> Result<Vec<Answer>, PlanError> {
        let mut answers = Vec::with_capacity(reads.len());
        for read in reads {
            answers.push(match read {
                Read::Refresh(addresses) => {
                    let Some(refresh) = refresh.as_deref_mut() else {
                        return Err(PlanError::Planner(
                            "the planner asked for the state's objects it was given".into(),
                        ));
                    };
                    let t = Instant::now();
                    let found = refresh.objects(addresses).await?;
                    self.refresh_waited += t.elapsed();
                    Answer::Refreshed(found)
                }
                Read::Import { region, kind, ids } => {
                    let client = client.ok_or(PlanError::Offline("read an object to import"))?;
                    Answer::Objects(read_objects(client, region, *kind, ids).await?)
                }
                Read::Owned { region, kind, ids } => {
                    let client = client.ok_or(PlanError::Offline("read ownership tags"))?;
                    Answer::Objects(read_objects(client, region, *kind, ids).await?)
                }
                Read::Tagged { region } => {
                    let client = client.ok_or(PlanError::Offline("read ownership tags"))?;
                    Answer::Tagged(ownership::list_tagged(client, region).await?)
                }
                Read::Data { kind, region, args } => {
                    let client = client.ok_or(PlanError::Offline("read a data source"))?;
                    Answer::Data(self.data.read(kind.def(), client, region, args).await?)
                }
                Read::VpcCidrs(vpcs) => {
                    let client = client.ok_or(PlanError::Offline("read VPC ranges"))?;
                    Answer::VpcCidrs(tunnelform_kinds::vpcs::read_cidrs(client, vpcs).await?)
                }
                Read::Counts {
                    region,
                    kind,
                    asked,
                } => {
                    let client = client.ok_or(PlanError::Offline("count objects for quotas"))?;
                    Answer::Counts(kind.def().count_existing(client, region, asked).await?)
                }
            });
        }
        Ok(answers)
    }
}
