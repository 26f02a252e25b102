//! Which resource a request names, which methods it allows, and the
//! privilege each method needs (the base PrivilegeRegistry's mapping:
//! reading needs Login; changing a component ConfigureComponents; the
//! manager ConfigureManager; accounts ConfigureUsers; one's own session
//! ConfigureSelf).
//!
//! The order a request meets its checks (DSP0266 §7, as DMTF's protocol
//! validator expects): an `OData-Version` other than 4.0 is refused (412);
//! then, unless the resource is public, the caller must authenticate
//! (401); an unknown resource is 404; a method the resource does not allow
//! 405 with `Allow`; a malformed query 400 and an unsupported `$` query
//! option 501; a missing privilege 403. A GET's reply then takes its
//! query: `$skip`/`$top`, `$expand` (the `expand` module), `$select`. Without authentication only `/redfish`, the service root,
//! `$metadata`, `/redfish/v1/odata` and the session login answer.

use hyper::{header, Method};
use redfish_core::{ApiError, Privilege, Query};
use serde_json::Value;

use crate::{
    expand::{self, Prefetched},
    resources::{
        account_changes, account_policy, accounts, chassis, controls, ethernet, event_service,
        event_stream, logs, managers, registries, root, sessions, subsystems, systems,
    },
    service::{Body, Caller, Reply, Request, Service},
};

/// A resource the service has.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
enum Resource<'a> {
    Versions,
    Root,
    OData,
    Metadata,
    SessionService,
    Sessions,
    Session(&'a str),
    Systems,
    System,
    ResetActionInfo,
    SystemReset,
    ChassisCollection,
    Chassis,
    Sensors,
    Sensor(&'a str),
    Managers,
    Manager,
    NetworkProtocol,
    AccountService,
    Accounts,
    Account(&'a str),
    Roles,
    Role(&'a str),
    SystemLogServices,
    EventLog,
    EventLogEntries,
    EventLogEntry(&'a str),
    ClearEventLog,
    ManagerLogServices,
    AuditLog,
    AuditLogEntries,
    AuditLogEntry(&'a str),
    EventService,
    EventStream,
    SubmitTestEvent,
    Subscriptions,
    Subscription(&'a str),
    ManagerResetActionInfo,
    ManagerReset,
    Controls,
    Control(&'a str),
    ThermalSubsystem,
    Fans,
    Fan(&'a str),
    ThermalMetrics,
    PowerSubsystem,
    PowerSupplies,
    PowerSupply(&'a str),
    PowerSupplyMetrics(&'a str),
    EthernetInterfaces,
    EthernetInterface(&'a str),
    Registries,
    RegistryFile(&'a str),
    Registry(&'a str),
}

impl<'a> Resource<'a> {
    fn parse(path: &'a str) -> Option<Self> {
        if path == "/redfish" || path == "/redfish/" {
            return Some(Self::Versions);
        }
        let rest = path.strip_prefix("/redfish/v1")?;
        let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
        Some(match segments.as_slice() {
            [] => Self::Root,
            ["odata"] => Self::OData,
            ["$metadata"] => Self::Metadata,
            ["SessionService"] => Self::SessionService,
            ["SessionService", "Sessions"] | ["SessionService", "Sessions", "Members"] => {
                Self::Sessions
            }
            ["SessionService", "Sessions", id] => Self::Session(id),
            ["Systems"] => Self::Systems,
            ["Systems", systems::SYSTEM] => Self::System,
            ["Systems", systems::SYSTEM, "ResetActionInfo"] => Self::ResetActionInfo,
            ["Systems", systems::SYSTEM, "Actions", "ComputerSystem.Reset"] => Self::SystemReset,
            ["Systems", systems::SYSTEM, "LogServices"] => Self::SystemLogServices,
            ["Systems", systems::SYSTEM, "LogServices", "EventLog"] => Self::EventLog,
            ["Systems", systems::SYSTEM, "LogServices", "EventLog", "Entries"] => {
                Self::EventLogEntries
            }
            ["Systems", systems::SYSTEM, "LogServices", "EventLog", "Entries", id] => {
                Self::EventLogEntry(id)
            }
            ["Systems", systems::SYSTEM, "LogServices", "EventLog", "Actions", "LogService.ClearLog"] => {
                Self::ClearEventLog
            }
            ["Managers", managers::MANAGER, "LogServices"] => Self::ManagerLogServices,
            ["Managers", managers::MANAGER, "LogServices", "AuditLog"] => Self::AuditLog,
            ["Managers", managers::MANAGER, "LogServices", "AuditLog", "Entries"] => {
                Self::AuditLogEntries
            }
            ["Managers", managers::MANAGER, "LogServices", "AuditLog", "Entries", id] => {
                Self::AuditLogEntry(id)
            }
            ["EventService"] => Self::EventService,
            ["EventService", "SSE"] => Self::EventStream,
            ["EventService", "Actions", "EventService.SubmitTestEvent"] => Self::SubmitTestEvent,
            ["EventService", "Subscriptions"] => Self::Subscriptions,
            ["EventService", "Subscriptions", id] => Self::Subscription(id),
            ["Chassis"] => Self::ChassisCollection,
            ["Chassis", chassis::CHASSIS] => Self::Chassis,
            ["Chassis", chassis::CHASSIS, "Sensors"] => Self::Sensors,
            ["Chassis", chassis::CHASSIS, "Sensors", id] => Self::Sensor(id),
            ["Chassis", chassis::CHASSIS, "Controls"] => Self::Controls,
            ["Chassis", chassis::CHASSIS, "Controls", id] => Self::Control(id),
            ["Chassis", chassis::CHASSIS, "ThermalSubsystem"] => Self::ThermalSubsystem,
            ["Chassis", chassis::CHASSIS, "ThermalSubsystem", "Fans"] => Self::Fans,
            ["Chassis", chassis::CHASSIS, "ThermalSubsystem", "Fans", id] => Self::Fan(id),
            ["Chassis", chassis::CHASSIS, "ThermalSubsystem", "ThermalMetrics"] => {
                Self::ThermalMetrics
            }
            ["Chassis", chassis::CHASSIS, "PowerSubsystem"] => Self::PowerSubsystem,
            ["Chassis", chassis::CHASSIS, "PowerSubsystem", "PowerSupplies"] => Self::PowerSupplies,
            ["Chassis", chassis::CHASSIS, "PowerSubsystem", "PowerSupplies", id] => {
                Self::PowerSupply(id)
            }
            ["Chassis", chassis::CHASSIS, "PowerSubsystem", "PowerSupplies", id, "Metrics"] => {
                Self::PowerSupplyMetrics(id)
            }
            ["Managers", managers::MANAGER, "EthernetInterfaces"] => Self::EthernetInterfaces,
            ["Managers", managers::MANAGER, "EthernetInterfaces", id] => {
                Self::EthernetInterface(id)
            }
            ["Registries"] => Self::Registries,
            ["Registries", prefix] => Self::RegistryFile(prefix),
            ["Registries", prefix, file] if prefix == file => Self::Registry(prefix),
            ["Managers"] => Self::Managers,
            ["Managers", managers::MANAGER] => Self::Manager,
            ["Managers", managers::MANAGER, "NetworkProtocol"] => Self::NetworkProtocol,
            ["Managers", managers::MANAGER, "ResetActionInfo"] => Self::ManagerResetActionInfo,
            ["Managers", managers::MANAGER, "Actions", "Manager.Reset"] => Self::ManagerReset,
            ["AccountService"] => Self::AccountService,
            ["AccountService", "Accounts"] => Self::Accounts,
            ["AccountService", "Accounts", name] => Self::Account(name),
            ["AccountService", "Roles"] => Self::Roles,
            ["AccountService", "Roles", id] => Self::Role(id),
            _ => return None,
        })
    }

    /// The methods it allows (never more than its schema permits).
    fn allow(self) -> &'static str {
        match self {
            Self::Sessions => "GET, HEAD, POST",
            Self::Session(_) => "GET, HEAD, DELETE",
            Self::System | Self::Chassis | Self::AccountService | Self::EventService => {
                "GET, HEAD, PATCH"
            }
            Self::Accounts | Self::Subscriptions => "GET, HEAD, POST",
            Self::Account(_) | Self::Subscription(_) => "GET, HEAD, PATCH, DELETE",
            Self::EventStream => "GET",
            Self::SystemReset
            | Self::ClearEventLog
            | Self::SubmitTestEvent
            | Self::ManagerReset => "POST",
            _ => "GET, HEAD",
        }
    }

    /// Whether `method` on it needs no authentication.
    fn public(self, method: &Method) -> bool {
        match self {
            Self::Versions | Self::Root | Self::OData | Self::Metadata => true,
            Self::Sessions => *method == Method::POST,
            _ => false,
        }
    }

    /// The schema describing it, for `Link: <...>; rel=describedby`.
    fn schema(self) -> Option<&'static str> {
        Some(match self {
            Self::Root => "ServiceRoot",
            Self::SessionService => "SessionService",
            Self::Sessions => "SessionCollection",
            Self::Session(_) => "Session",
            Self::Systems => "ComputerSystemCollection",
            Self::System => "ComputerSystem",
            Self::ResetActionInfo | Self::ManagerResetActionInfo => "ActionInfo",
            Self::ChassisCollection => "ChassisCollection",
            Self::Chassis => "Chassis",
            Self::Sensors => "SensorCollection",
            Self::Sensor(_) => "Sensor",
            Self::Managers => "ManagerCollection",
            Self::Manager => "Manager",
            Self::NetworkProtocol => "ManagerNetworkProtocol",
            Self::AccountService => "AccountService",
            Self::Accounts => "ManagerAccountCollection",
            Self::Account(_) => "ManagerAccount",
            Self::Roles => "RoleCollection",
            Self::Role(_) => "Role",
            Self::SystemLogServices | Self::ManagerLogServices => "LogServiceCollection",
            Self::EventLog | Self::AuditLog => "LogService",
            Self::EventLogEntries | Self::AuditLogEntries => "LogEntryCollection",
            Self::EventLogEntry(_) | Self::AuditLogEntry(_) => "LogEntry",
            Self::EventService => "EventService",
            Self::Subscriptions => "EventDestinationCollection",
            Self::Subscription(_) => "EventDestination",
            Self::Controls => "ControlCollection",
            Self::Control(_) => "Control",
            Self::ThermalSubsystem => "ThermalSubsystem",
            Self::Fans => "FanCollection",
            Self::Fan(_) => "Fan",
            Self::ThermalMetrics => "ThermalMetrics",
            Self::PowerSubsystem => "PowerSubsystem",
            Self::PowerSupplies => "PowerSupplyCollection",
            Self::PowerSupply(_) => "PowerSupply",
            Self::PowerSupplyMetrics(_) => "PowerSupplyMetrics",
            Self::EthernetInterfaces => "EthernetInterfaceCollection",
            Self::EthernetInterface(_) => "EthernetInterface",
            Self::Registries => "MessageRegistryFileCollection",
            Self::RegistryFile(_) => "MessageRegistryFile",
            Self::Registry(_) => "MessageRegistry",
            Self::Versions
            | Self::OData
            | Self::Metadata
            | Self::SystemReset
            | Self::ClearEventLog
            | Self::EventStream
            | Self::SubmitTestEvent
            | Self::ManagerReset => return None,
        })
    }
}

fn allows(allow: &str, method: &Method) -> bool {
    allow.split(", ").any(|m| m == method.as_str())
}

/// Answers `request`.
pub async fn route(service: &Service, request: &Request) -> Result<Reply, ApiError> {
    if let Some(version) = request.headers.get("odata-version") {
        if version.as_bytes() != b"4.0" {
            return Err(ApiError::precondition_failed());
        }
    }
    let resource = Resource::parse(&request.path);
    let method = &request.method;
    let caller = match resource {
        Some(resource) if resource.public(method) => None,
        _ => Some(service.authenticate(request).await?),
    };
    let resource = resource.ok_or_else(|| ApiError::not_found("Resource", &request.path))?;
    let allow = resource.allow();
    if !allows(allow, method) {
        return Err(ApiError::method_not_allowed(allow));
    }
    // The event stream takes `$filter` (its own, parsed there); every
    // other resource the service's query options.
    let query = if resource == Resource::EventStream {
        Query::default()
    } else {
        Query::parse(request.query.as_deref())?
    };
    // A change holds the service's change lock from its If-Match check to
    // its reply (the check and the change are one step).
    let _changing = if *method == Method::GET || *method == Method::HEAD {
        None
    } else {
        Some(service.changes.lock().await)
    };
    if let Some(wanted) = request.headers.get(header::IF_MATCH) {
        // A change made against a version of the resource the client read:
        // refused if the resource has changed since.
        let current = dispatch(service, &request.as_get(), resource, caller.as_ref()).await?;
        let current = current.etag().unwrap_or_default();
        if !etag_matches(wanted.to_str().unwrap_or_default(), &current) {
            return Err(ApiError::precondition_failed());
        }
    }
    let mut reply = dispatch(service, request, resource, caller.as_ref()).await?;
    let reading = *method == Method::GET || *method == Method::HEAD;
    if reading && !query.is_empty() {
        // A public resource expands what its caller, if it says who it is,
        // may read.
        let caller = match caller {
            None if query.expand.is_some() => service.authenticate(request).await.ok(),
            known => known,
        };
        apply_query(
            service,
            request,
            resource,
            caller.as_ref(),
            &query,
            &mut reply,
        )
        .await?;
    }
    if let Some(etag) = reply.tag_with_etag() {
        if request.method == Method::GET
            && request
                .headers
                .get(header::IF_NONE_MATCH)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|wanted| etag_matches(wanted, &etag))
        {
            reply = Reply::empty(hyper::StatusCode::NOT_MODIFIED).with_header(header::ETAG, &etag);
        }
    }
    let mut reply = reply.with_header(header::ALLOW, allow);
    if let Some(schema) = resource.schema() {
        reply = reply.with_header(
            header::LINK,
            &format!("<https://redfish.dmtf.org/schemas/v1/{schema}.json>; rel=describedby"),
        );
    }
    Ok(reply)
}

/// Whether an `If-Match`/`If-None-Match` value (a list, or `*`) names
/// `current`.
fn etag_matches(wanted: &str, current: &str) -> bool {
    wanted
        .split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || (!current.is_empty() && tag == current))
}

/// Applies `$skip`/`$top`, then `$expand`, then `$select` to a GET's
/// reply.
async fn apply_query(
    service: &Service,
    request: &Request,
    resource: Resource<'_>,
    caller: Option<&Caller>,
    query: &Query,
    reply: &mut Reply,
) -> Result<(), ApiError> {
    let Some(Body::Json(body)) = &mut reply.body else {
        return Ok(());
    };
    if let Value::Object(object) = body {
        let rest = redfish_core::query::other_parameters(request.query.as_deref());
        query.page(object, &request.path, &rest);
    }
    if let (Some(expand_query), Some(caller)) = (query.expand, caller) {
        let prefetched = prefetch(service, resource).await?;
        let fetcher = Fetcher { service, caller };
        expand::expand(&fetcher, body, expand_query, &prefetched).await;
    }
    if let Value::Object(object) = body {
        query.select(object);
    }
    Ok(())
}

/// The members of a collection that one owner call reads whole, for
/// `$expand`.
async fn prefetch(service: &Service, resource: Resource<'_>) -> Result<Prefetched, ApiError> {
    Ok(match resource {
        Resource::Sensors => chassis::sensor_bodies(service).await?.into_iter().collect(),
        Resource::Accounts => accounts::account_bodies(service)
            .await?
            .into_iter()
            .collect(),
        _ => Prefetched::new(),
    })
}

/// Reads resources for `$expand` as `caller` would GET them.
struct Fetcher<'a> {
    service: &'a Service,
    caller: &'a Caller,
}

impl expand::Fetch for Fetcher<'_> {
    fn fetch<'a>(
        &'a self,
        path: &'a str,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Option<Value>> + Send + 'a>> {
        Box::pin(async move {
            let resource = Resource::parse(path)?;
            if !allows(resource.allow(), &Method::GET) {
                return None;
            }
            let request = Request {
                method: Method::GET,
                path: path.to_owned(),
                query: None,
                headers: hyper::HeaderMap::new(),
                body: bytes::Bytes::new(),
                peer: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
            };
            let reply = dispatch(self.service, &request, resource, Some(self.caller))
                .await
                .ok()?;
            match reply.body {
                Some(Body::Json(value)) => Some(value),
                _ => None,
            }
        })
    }
}

async fn dispatch(
    service: &Service,
    request: &Request,
    resource: Resource<'_>,
    caller: Option<&Caller>,
) -> Result<Reply, ApiError> {
    let get = request.method == Method::GET || request.method == Method::HEAD;
    // Public resources reach here without a caller; every other one has
    // one (route() authenticated it).
    let caller = || caller.ok_or_else(ApiError::no_valid_session);
    let needs = |privilege: Privilege| -> Result<&Caller, ApiError> {
        let caller = caller()?;
        if caller.role.has(privilege) {
            Ok(caller)
        } else {
            Err(ApiError::insufficient_privilege())
        }
    };
    match resource {
        Resource::Versions => Ok(root::versions()),
        Resource::Root => Ok(root::service_root(service)),
        Resource::OData => Ok(root::odata()),
        Resource::Metadata => Ok(root::metadata()),
        Resource::SessionService => Ok(sessions::service(service)),
        Resource::Sessions if get => Ok(sessions::collection(service)),
        Resource::Sessions => sessions::create(service, request).await,
        Resource::Session(id) if get => sessions::get(service, caller()?, id),
        Resource::Session(id) => sessions::delete(service, caller()?, id),
        Resource::Systems => Ok(systems::collection()),
        Resource::System if get => systems::get(service).await,
        Resource::System => {
            let caller = needs(Privilege::ConfigureComponents)?;
            systems::patch(service, caller, request).await
        }
        Resource::ResetActionInfo => Ok(systems::reset_action_info()),
        Resource::SystemReset => {
            let caller = needs(Privilege::ConfigureComponents)?;
            systems::reset(service, caller, request).await
        }
        Resource::ChassisCollection => Ok(chassis::collection()),
        Resource::Chassis if get => chassis::get(service).await,
        Resource::Chassis => {
            let caller = needs(Privilege::ConfigureComponents)?;
            chassis::patch(service, caller, request).await
        }
        Resource::Sensors => chassis::sensors(service).await,
        Resource::Sensor(id) => chassis::sensor(service, id).await,
        Resource::Managers => Ok(managers::collection()),
        Resource::Manager => Ok(managers::get(service)),
        Resource::NetworkProtocol => Ok(managers::network_protocol(service)),
        Resource::ManagerResetActionInfo => Ok(managers::reset_action_info()),
        Resource::ManagerReset => {
            let caller = needs(Privilege::ConfigureManager)?;
            managers::reset(service, caller, request).await
        }
        Resource::AccountService if get => accounts::service(service).await,
        Resource::AccountService => {
            let caller = needs(Privilege::ConfigureUsers)?;
            account_policy::patch(service, caller, request).await
        }
        Resource::Accounts if get => accounts::collection(service).await,
        Resource::Accounts => {
            let caller = needs(Privilege::ConfigureUsers)?;
            account_changes::create(service, caller, request).await
        }
        Resource::Account(name) if get => accounts::account(service, name).await,
        // ConfigureUsers, or ConfigureSelf for one's own password: the
        // change decides, once its body is read.
        Resource::Account(name) if request.method == Method::PATCH => {
            account_changes::patch(service, caller()?, name, request).await
        }
        Resource::Account(name) => {
            let caller = needs(Privilege::ConfigureUsers)?;
            account_changes::delete(service, caller, name).await
        }
        Resource::SystemLogServices => Ok(logs::system_log_services()),
        Resource::EventLog => Ok(logs::event_log(service)),
        Resource::EventLogEntries => logs::event_log_entries(service).await,
        Resource::EventLogEntry(id) => logs::event_log_entry(service, id).await,
        Resource::ClearEventLog => {
            let caller = needs(Privilege::ConfigureComponents)?;
            logs::clear_event_log(service, caller, request).await
        }
        Resource::ManagerLogServices => Ok(logs::manager_log_services()),
        // The audit trail names users and addresses: ConfigureManager, as
        // bmcweb asks of its audit log.
        Resource::AuditLog => {
            needs(Privilege::ConfigureManager)?;
            Ok(logs::audit_log(service))
        }
        Resource::AuditLogEntries => {
            needs(Privilege::ConfigureManager)?;
            logs::audit_log_entries(service).await
        }
        Resource::AuditLogEntry(id) => {
            needs(Privilege::ConfigureManager)?;
            logs::audit_log_entry(service, id).await
        }
        Resource::EventService if get => Ok(event_service::get(service)),
        Resource::EventService => {
            let caller = needs(Privilege::ConfigureManager)?;
            event_service::patch(service, caller, request).await
        }
        Resource::EventStream => event_stream::sse(service, caller()?, request),
        Resource::SubmitTestEvent => {
            let caller = needs(Privilege::ConfigureManager)?;
            event_service::submit_test_event(service, caller, request)
        }
        Resource::Subscriptions if get => Ok(event_service::subscriptions(service)),
        Resource::Subscriptions => {
            let caller = needs(Privilege::ConfigureManager)?;
            event_service::create(service, caller, request).await
        }
        Resource::Subscription(id) if get => event_service::subscription(service, id),
        Resource::Subscription(id) if request.method == Method::PATCH => {
            let caller = needs(Privilege::ConfigureManager)?;
            event_service::patch_subscription(service, caller, id, request).await
        }
        Resource::Subscription(id) => {
            let caller = needs(Privilege::ConfigureManager)?;
            event_service::delete(service, caller, id).await
        }
        Resource::Controls => Ok(controls::collection(service)),
        Resource::Control(id) => controls::control(service, id).await,
        Resource::ThermalSubsystem => subsystems::thermal(service).await,
        Resource::Fans => Ok(subsystems::fan_collection(service)),
        Resource::Fan(id) => subsystems::fan(service, id).await,
        Resource::ThermalMetrics => subsystems::thermal_metrics(service).await,
        Resource::PowerSubsystem => subsystems::power(service).await,
        Resource::PowerSupplies => Ok(subsystems::supply_collection(service)),
        Resource::PowerSupply(id) => subsystems::supply(service, id).await,
        Resource::PowerSupplyMetrics(id) => subsystems::supply_metrics(service, id).await,
        Resource::EthernetInterfaces => ethernet::collection(service).await,
        Resource::EthernetInterface(id) => ethernet::interface(service, id).await,
        Resource::Registries => Ok(registries::collection()),
        Resource::RegistryFile(prefix) => registries::file(prefix),
        Resource::Registry(prefix) => registries::registry(prefix),
        Resource::Roles => Ok(accounts::roles()),
        Resource::Role(id) => accounts::role(id),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_name_resources_with_or_without_a_trailing_slash() {
        assert_eq!(Resource::parse("/redfish/v1"), Some(Resource::Root));
        assert_eq!(Resource::parse("/redfish/v1/"), Some(Resource::Root));
        assert_eq!(Resource::parse("/redfish"), Some(Resource::Versions));
        assert_eq!(
            Resource::parse("/redfish/v1/SessionService/Sessions/Members"),
            Some(Resource::Sessions)
        );
        assert_eq!(
            Resource::parse("/redfish/v1/Chassis/chassis/Sensors/Board_Temp/"),
            Some(Resource::Sensor("Board_Temp"))
        );
        assert_eq!(Resource::parse("/redfish/v1/Systems/other"), None);
        assert_eq!(Resource::parse("/redfish/v2"), None);
        assert_eq!(Resource::parse("/index.html"), None);
    }

    #[test]
    fn only_the_entry_points_and_the_login_are_public() {
        for public in [
            "/redfish",
            "/redfish/v1",
            "/redfish/v1/odata",
            "/redfish/v1/$metadata",
        ] {
            assert!(
                Resource::parse(public).unwrap().public(&Method::GET),
                "{public}"
            );
        }
        let sessions = Resource::parse("/redfish/v1/SessionService/Sessions").unwrap();
        assert!(sessions.public(&Method::POST));
        assert!(!sessions.public(&Method::GET));
        assert!(!Resource::parse("/redfish/v1/Systems/system")
            .unwrap()
            .public(&Method::GET));
    }

    #[test]
    fn etags_match_one_of_a_list_or_a_star() {
        assert!(etag_matches("\"a\", \"b\"", "\"b\""));
        assert!(etag_matches("*", "\"b\""));
        assert!(!etag_matches("\"a\"", "\"b\""));
        assert!(!etag_matches("", ""));
    }

    #[test]
    fn allow_lists_only_methods_served() {
        assert!(allows("GET, HEAD, POST", &Method::POST));
        assert!(!allows("GET, HEAD", &Method::PATCH));
        assert!(!allows("GET, HEAD", &Method::from_bytes(b"GETX").unwrap()));
    }
}
