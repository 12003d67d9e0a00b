//! An entry point for fuzzing and tests: the sandbox's request handling (method and form, body limit,
//! headers, TC3 signature, service and action, region, spec validation, the action itself on the world)
//! without a socket or a listener. Not part of the supported API.

use std::sync::Arc;

use axum::body::Body;
use http_body_util::BodyExt;
use rand::rngs::StdRng;
use rand::SeedableRng;

use crate::clock;
use crate::config::{SandboxConfig, DEFAULT_UIN};
use crate::error::SandboxError;
use crate::protocol::{handle, Outcome};
use crate::server::Shared;
use crate::spec::Specs;
use crate::stats::Counters;
use crate::world::World;

/// The answer to one request given to [`RequestHarness::handle`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HarnessResponse {
    /// HTTP status (200 for every API answer, errors included).
    pub status: u16,
    /// The `Content-Type` header, if any.
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

/// The sandbox's request handling on an in-memory world, driven one request at a time.
pub struct RequestHarness {
    shared: Arc<Shared>,
    seed: u64,
}

impl std::fmt::Debug for RequestHarness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestHarness").finish_non_exhaustive()
    }
}

impl RequestHarness {
    /// A harness for `config` (its listen address, data file and connection settings are not used;
    /// faults and rate limits are). The world is the default one; its random ids come from `config.seed`
    /// (0 when unset), so a sequence of requests gives the same answers each time after [`Self::reset`].
    pub fn new(config: &SandboxConfig) -> Result<RequestHarness, SandboxError> {
        config.validate()?;
        let specs = Specs::load().map_err(SandboxError::Spec)?;
        let seed = config.seed.unwrap_or(0);
        let uin = config
            .uin
            .clone()
            .unwrap_or_else(|| DEFAULT_UIN.to_string());
        let shared = Shared::new(
            config,
            World::new_default(clock::now_ms(), uin),
            StdRng::seed_from_u64(seed),
            specs,
            None,
        );
        Ok(RequestHarness {
            shared: Arc::new(shared),
            seed,
        })
    }

    /// Back to the default world, the initial random seed and zero counters.
    pub fn reset(&self) {
        let mut inner = self.shared.lock();
        let uin = std::mem::take(&mut inner.world.uin);
        inner.world = World::new_default(clock::now_ms(), uin);
        inner.rng = StdRng::seed_from_u64(self.seed);
        inner.counters = Counters::default();
        inner.generation = 0;
    }

    /// The credentials requests must be signed with.
    pub fn credentials(&self) -> &tunnelform_tc3::Credentials {
        &self.shared.credentials
    }

    /// Handles one request as the server would; `None` when the server would close the connection
    /// without answering (an injected fault).
    pub async fn handle(&self, req: http::Request<Vec<u8>>) -> Option<HarnessResponse> {
        match handle(&self.shared, req.map(Body::from)).await {
            Outcome::Drop => None,
            Outcome::Respond(resp) => {
                let (parts, body) = resp.into_parts();
                let body = body
                    .collect()
                    .await
                    .map(|c| c.to_bytes().to_vec())
                    .unwrap_or_default();
                Some(HarnessResponse {
                    status: parts.status.as_u16(),
                    content_type: parts
                        .headers
                        .get(http::header::CONTENT_TYPE)
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_string),
                    body,
                })
            }
        }
    }

    /// Requests, errors and faults counted since the last reset.
    pub fn stats(&self) -> crate::SandboxStats {
        self.shared.lock().counters.snapshot()
    }
}
