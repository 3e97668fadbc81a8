//! [`Grpc`]: `ceramic.v1.Node` over the node [`Service`]. Each handler parses its request once
//! (fields that do not parse never reach the service), calls the service, and converts the typed
//! answer; errors become statuses in `status.rs`.

use std::pin::Pin;

use ceramic_proto::convert::{parse_after, parse_blocks, parse_cid, parse_ref};
use ceramic_proto::v1;
use ceramic_proto::v1::list_streams_request::Filter;
use ceramic_proto::v1::node_server::{Node, NodeServer};
use ceramic_service::{CommitBlocks, FeedFilter, Health, Service, StreamFilter};
use ceramic_streamid::StreamType;
use futures::StreamExt as _;
use tonic::{Request, Response, Status};

use crate::status::ToStatus;

/// The `ceramic.v1.Node` gRPC service over a node [`Service`]. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Grpc {
    service: Service,
}

impl Grpc {
    /// The gRPC front-end of `service`.
    pub fn new(service: Service) -> Self {
        Grpc { service }
    }

    /// The tonic server, to add to a `tonic::transport::Server`.
    pub fn into_server(self) -> NodeServer<Self> {
        NodeServer::new(self)
    }

    fn commit(request: v1::CommitRequest) -> Result<(StreamType, CommitBlocks), Status> {
        let cid = parse_cid("commit", &request.commit).map_err(|e| e.to_status())?;
        let blocks = parse_blocks(request.blocks).map_err(|e| e.to_status())?;
        let commit = CommitBlocks::new(cid, blocks).map_err(|e| e.to_status())?;
        Ok((StreamType::new(request.stream_type), commit))
    }
}

/// The stream of events `SubscribeEvents` answers with.
pub type SubscribeEventsStream =
    Pin<Box<dyn futures::Stream<Item = Result<v1::FeedEvent, Status>> + Send>>;

/// The most streams one `SubscribeEvents` may name.
pub const MAX_SUBSCRIBED_STREAMS: usize = 1_000;

/// The stream of states `Subscribe` answers with.
pub type SubscribeStream =
    Pin<Box<dyn futures::Stream<Item = Result<v1::StreamResponse, Status>> + Send>>;

fn page_limit(limit: u32) -> usize {
    usize::try_from(limit).unwrap_or(usize::MAX)
}

#[tonic::async_trait]
impl Node for Grpc {
    type SubscribeStream = SubscribeStream;
    type SubscribeEventsStream = SubscribeEventsStream;

    async fn create_stream(
        &self,
        request: Request<v1::CommitRequest>,
    ) -> Result<Response<v1::StreamResponse>, Status> {
        let (stream_type, commit) = Self::commit(request.into_inner())?;
        let state = self.service.create(stream_type, commit).await.map_err(|e| e.to_status())?;
        Ok(Response::new((&state).into()))
    }

    async fn apply_commit(
        &self,
        request: Request<v1::CommitRequest>,
    ) -> Result<Response<v1::StreamResponse>, Status> {
        let (stream_type, commit) = Self::commit(request.into_inner())?;
        let state =
            self.service.apply(stream_type, commit, None).await.map_err(|e| e.to_status())?;
        Ok(Response::new((&state).into()))
    }

    async fn load_stream(
        &self,
        request: Request<v1::LoadStreamRequest>,
    ) -> Result<Response<v1::StreamResponse>, Status> {
        let request = request.into_inner();
        let id = parse_ref("id", &request.id).map_err(|e| e.to_status())?;
        let state = self.service.load(id, request.at_time).await.map_err(|e| e.to_status())?;
        Ok(Response::new((&state).into()))
    }

    async fn list_commits(
        &self,
        request: Request<v1::ListCommitsRequest>,
    ) -> Result<Response<v1::ListCommitsResponse>, Status> {
        let id = parse_ref("id", &request.into_inner().id).map_err(|e| e.to_status())?;
        let log = self.service.commits(id, false).await.map_err(|e| e.to_status())?;
        let stream = log.state.stream_id();
        let commits = log.state.log().iter().map(|entry| v1::LogEntry::new(&stream, entry));
        Ok(Response::new(v1::ListCommitsResponse {
            stream_id: stream.to_string(),
            commits: commits.collect(),
        }))
    }

    async fn pin(
        &self,
        request: Request<v1::PinRequest>,
    ) -> Result<Response<v1::PinResponse>, Status> {
        let id = parse_ref("stream_id", &request.into_inner().stream_id)
            .map_err(|e| e.to_status())?
            .stream_id();
        self.service.pin(id).await.map_err(|e| e.to_status())?;
        Ok(Response::new(v1::PinResponse {}))
    }

    async fn unpin(
        &self,
        request: Request<v1::UnpinRequest>,
    ) -> Result<Response<v1::UnpinResponse>, Status> {
        let id = parse_ref("stream_id", &request.into_inner().stream_id)
            .map_err(|e| e.to_status())?
            .stream_id();
        let was_pinned = self.service.unpin(id).await.map_err(|e| e.to_status())?;
        Ok(Response::new(v1::UnpinResponse { was_pinned }))
    }

    async fn list_pins(
        &self,
        request: Request<v1::ListPinsRequest>,
    ) -> Result<Response<v1::StreamPage>, Status> {
        let request = request.into_inner();
        let after = parse_after(&request.after).map_err(|e| e.to_status())?;
        let page =
            self.service.pins(after, page_limit(request.limit)).await.map_err(|e| e.to_status())?;
        Ok(Response::new(v1::StreamPage::new(&page.streams, page.next.as_ref())))
    }

    async fn list_streams(
        &self,
        request: Request<v1::ListStreamsRequest>,
    ) -> Result<Response<v1::StreamPage>, Status> {
        let request = request.into_inner();
        let after = parse_after(&request.after).map_err(|e| e.to_status())?;
        let filter = match request.filter {
            None => StreamFilter::All,
            Some(Filter::Controller(c)) => StreamFilter::Controller(c),
            Some(Filter::Family(f)) => StreamFilter::Family(f),
            Some(Filter::Tag(t)) => StreamFilter::Tag(t),
        };
        let page = self
            .service
            .streams(filter, after, page_limit(request.limit))
            .await
            .map_err(|e| e.to_status())?;
        Ok(Response::new(v1::StreamPage::new(&page.streams, page.next.as_ref())))
    }

    async fn node_info(
        &self,
        _request: Request<v1::NodeInfoRequest>,
    ) -> Result<Response<v1::NodeInfoResponse>, Status> {
        let info = self.service.info();
        Ok(Response::new(v1::NodeInfoResponse {
            version: info.version().to_string(),
            network: info.network().to_string(),
            doctypes: info
                .doctypes()
                .iter()
                .map(|(t, name)| v1::Doctype { stream_type: t.code(), name: (*name).to_string() })
                .collect(),
            anchor_verifier: info.anchor_verifier().to_string(),
        }))
    }

    async fn list_hooks(
        &self,
        _request: Request<v1::ListHooksRequest>,
    ) -> Result<Response<v1::ListHooksResponse>, Status> {
        let hooks = self
            .service
            .hooks()
            .into_iter()
            .map(|h| v1::Hook {
                name: h.name,
                module: h.module,
                events: h.events,
                filter: h.filter,
                runs: h.runs,
                failures: h.failures,
                vetoes: h.vetoes,
            })
            .collect();
        Ok(Response::new(v1::ListHooksResponse { hooks }))
    }

    async fn health(
        &self,
        _request: Request<v1::HealthRequest>,
    ) -> Result<Response<v1::HealthResponse>, Status> {
        let (status, reason) = match self.service.health().await {
            Health::Serving => (v1::ServingStatus::Serving, String::new()),
            Health::NotServing(e) => (v1::ServingStatus::NotServing, e.to_string()),
        };
        Ok(Response::new(v1::HealthResponse { status: status.into(), reason }))
    }

    async fn request_anchor(
        &self,
        request: Request<v1::AnchorStreamRequest>,
    ) -> Result<Response<v1::AnchorStreamResponse>, Status> {
        let stream = parse_ref("stream_id", &request.into_inner().stream_id)
            .map_err(|e| e.to_status())?
            .stream_id();
        let requested = self.service.request_anchor(stream).await.map_err(|e| e.to_status())?;
        Ok(Response::new(v1::AnchorStreamResponse {
            stream_id: requested.stream.to_string(),
            tip: requested.tip.to_string(),
            anchor_status: requested.status.name().to_owned(),
        }))
    }

    async fn subscribe(
        &self,
        request: Request<v1::SubscribeRequest>,
    ) -> Result<Response<Self::SubscribeStream>, Status> {
        let stream = parse_ref("stream_id", &request.into_inner().stream_id)
            .map_err(|e| e.to_status())?
            .stream_id();
        let states = self.service.subscribe(stream).map(|state| match state {
            Ok(state) => Ok(v1::StreamResponse::from(&state)),
            Err(e) => Err(e.to_status()),
        });
        Ok(Response::new(Box::pin(states)))
    }

    async fn list_instances(
        &self,
        request: Request<v1::ListInstancesRequest>,
    ) -> Result<Response<v1::StreamPage>, Status> {
        let request = request.into_inner();
        let model = parse_ref("model", &request.model).map_err(|e| e.to_status())?.stream_id();
        let after = parse_after(&request.after).map_err(|e| e.to_status())?;
        let controller = Some(request.controller).filter(|c| !c.is_empty());
        let page = self
            .service
            .instances(model.to_string(), controller, after, page_limit(request.limit))
            .await
            .map_err(|e| e.to_status())?;
        Ok(Response::new(v1::StreamPage::new(&page.streams, page.next.as_ref())))
    }

    async fn subscribe_events(
        &self,
        request: Request<v1::SubscribeEventsRequest>,
    ) -> Result<Response<Self::SubscribeEventsStream>, Status> {
        use v1::subscribe_events_request::Filter as EventFilter;
        let request = request.into_inner();
        let filter = match request.filter {
            None => FeedFilter::All,
            Some(EventFilter::Model(model)) => FeedFilter::Model(
                parse_ref("model", &model).map_err(|e| e.to_status())?.stream_id().to_string(),
            ),
            Some(EventFilter::Streams(streams)) => {
                if streams.stream_ids.len() > MAX_SUBSCRIBED_STREAMS {
                    return Err(Status::invalid_argument(format!(
                        "streams: more than {MAX_SUBSCRIBED_STREAMS} streams"
                    )));
                }
                let ids = streams
                    .stream_ids
                    .iter()
                    .map(|id| parse_ref("streams", id).map(|r| r.stream_id()))
                    .collect::<Result<_, _>>()
                    .map_err(|e| e.to_status())?;
                FeedFilter::Streams(ids)
            }
        };
        let events = self.service.follow_feed(request.resume_after, filter).map(|entry| {
            entry
                .map(|entry| v1::FeedEvent {
                    resume_token: entry.position,
                    stream_id: entry.stream.to_string(),
                    event_cid: entry.event.to_string(),
                })
                .map_err(|e| e.to_status())
        });
        Ok(Response::new(Box::pin(events)))
    }

    async fn run_gc(
        &self,
        _request: Request<v1::RunGcRequest>,
    ) -> Result<Response<v1::GcReport>, Status> {
        let run = self.service.gc().await.map_err(|e| e.to_status())?;
        let count = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
        Ok(Response::new(v1::GcReport {
            pinned_streams: count(run.report.pinned_streams),
            streams_removed: count(run.report.streams_removed),
            blocks_removed: count(run.report.blocks_removed),
            blocks_kept: count(run.report.blocks_kept),
            bytes_freed: run.report.bytes_freed,
            duration_ms: u64::try_from(run.duration.as_millis()).unwrap_or(u64::MAX),
        }))
    }

    async fn store_stats(
        &self,
        _request: Request<v1::StoreStatsRequest>,
    ) -> Result<Response<v1::StoreStatsResponse>, Status> {
        let stats = self.service.stats().await.map_err(|e| e.to_status())?;
        let count = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
        Ok(Response::new(v1::StoreStatsResponse {
            blocks: count(stats.blocks),
            streams: count(stats.streams),
            pins: count(stats.pins),
            pin_on_write: self.service.pins_on_write(),
        }))
    }

    async fn list_backups(
        &self,
        _request: Request<v1::ListBackupsRequest>,
    ) -> Result<Response<v1::ListBackupsResponse>, Status> {
        let backups = self
            .service
            .backups()
            .into_iter()
            .map(|s| v1::BackupStatus {
                name: s.name,
                kind: s.kind,
                runs: s.runs,
                errors: s.errors,
                last_run: s.last_run.unwrap_or(0),
                last_success: s.last_success.unwrap_or(0),
                streams: s.streams as u64,
                commits: s.commits as u64,
                commits_sent: s.commits_sent,
                pending: s.pending as u64,
                last_error: s.last_error.unwrap_or_default(),
                retry_at: s.retry_at.unwrap_or(0),
            })
            .collect();
        Ok(Response::new(v1::ListBackupsResponse { backups }))
    }

    async fn run_backup(
        &self,
        request: Request<v1::RunBackupRequest>,
    ) -> Result<Response<v1::RunBackupResponse>, Status> {
        let target = request.into_inner().target;
        let report = self.service.run_backup(&target).await.map_err(|e| e.to_status())?;
        Ok(Response::new(v1::RunBackupResponse {
            streams: report.streams as u64,
            commits: report.commits as u64,
            bytes: report.bytes as u64,
            failed: report.failures.len() as u64,
        }))
    }

    async fn restore_backup(
        &self,
        request: Request<v1::RestoreBackupRequest>,
    ) -> Result<Response<v1::RestoreBackupResponse>, Status> {
        let target = request.into_inner().target;
        let report = self.service.restore_backup(&target).await.map_err(|e| e.to_status())?;
        Ok(Response::new(v1::RestoreBackupResponse {
            streams: report.streams as u64,
            commits: report.commits as u64,
            bytes: report.bytes as u64,
        }))
    }
}
