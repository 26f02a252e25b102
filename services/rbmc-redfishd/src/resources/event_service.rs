//! The EventService: its settings, `SubmitTestEvent`, and the push
//! subscriptions (kept and delivered by `crate::subscriptions`). Its
//! Server-Sent Events stream is `event_stream`'s.

use hyper::{header, StatusCode};
use redfish_core::{events::EventMessage, ApiError};
use serde_json::{json, Map, Value};
use tracing::info;

use crate::{
    resources::body_object,
    service::{Caller, Reply, Request, Service},
    subscriptions::{ChangeError, RetryPolicy, Subscription, MAX_SUBSCRIPTIONS},
};

const PATH: &str = "/redfish/v1/EventService";
const SUBSCRIPTIONS: &str = "/redfish/v1/EventService/Subscriptions";
const SUBMIT: &str = "EventService.SubmitTestEvent";
/// The registries events come from.
const REGISTRIES: [&str; 2] = ["ResourceEvent", "SensorEvent"];

/// `GET /redfish/v1/EventService`.
pub fn get(service: &Service) -> Reply {
    let stored = service.subscriptions.snapshot();
    Reply::ok(json!({
        "@odata.id": PATH,
        "@odata.type": "#EventService.v1_12_0.EventService",
        "Id": "EventService",
        "Name": "Event Service",
        "ServiceEnabled": true,
        "Status": { "State": "Enabled", "Health": "OK" },
        "DeliveryRetryAttempts": stored.retry_attempts,
        "DeliveryRetryIntervalSeconds": stored.retry_interval_secs,
        "EventFormatTypes": ["Event"],
        "RegistryPrefixes": REGISTRIES,
        "ServerSentEventUri": crate::resources::event_stream::SSE,
        "SSEFilterPropertiesSupported": {
            "EventFormatType": false,
            "MessageId": true,
            "MetricReportDefinition": false,
            "OriginResource": true,
            "RegistryPrefix": true,
            "ResourceType": false,
        },
        "Subscriptions": { "@odata.id": SUBSCRIPTIONS },
        "Actions": {
            "#EventService.SubmitTestEvent": { "target": format!("{PATH}/Actions/{SUBMIT}") }
        },
    }))
}

fn bounded(value: &Value, property: &str, min: u64, max: u64) -> Result<u32, ApiError> {
    let n = value
        .as_u64()
        .ok_or_else(|| ApiError::property_value_type(&value.to_string(), property))?;
    if !(min..=max).contains(&n) {
        return Err(ApiError::property_value_incorrect(property, &n.to_string()));
    }
    u32::try_from(n).map_err(|_| ApiError::property_value_incorrect(property, &n.to_string()))
}

fn store_error(err: &ChangeError) -> ApiError {
    match err {
        ChangeError::Full => ApiError::create_limit(),
        ChangeError::NotFound => ApiError::not_found("EventDestination", ""),
        ChangeError::Store(io) if io.raw_os_error() == Some(28) => ApiError::insufficient_storage(),
        ChangeError::Store(_) => ApiError::internal(),
    }
}

/// `PATCH /redfish/v1/EventService`: the delivery retry settings.
pub async fn patch(
    service: &Service,
    caller: &Caller,
    request: &Request,
) -> Result<Reply, ApiError> {
    let body = body_object(&request.body)?;
    let (mut attempts, mut interval) = (None, None);
    for (key, value) in &body {
        match key.as_str() {
            "DeliveryRetryAttempts" => attempts = Some(bounded(value, key, 0, 10)?),
            "DeliveryRetryIntervalSeconds" => interval = Some(bounded(value, key, 1, 3600)?),
            k if k.contains('@') => {}
            "Id"
            | "Name"
            | "ServiceEnabled"
            | "Status"
            | "EventFormatTypes"
            | "RegistryPrefixes"
            | "ServerSentEventUri"
            | "SSEFilterPropertiesSupported"
            | "Subscriptions"
            | "Actions" => return Err(ApiError::property_not_writable(key)),
            _ => return Err(ApiError::property_unknown(key)),
        }
    }
    service
        .subscriptions
        .change(|stored| {
            if let Some(attempts) = attempts {
                stored.retry_attempts = attempts;
            }
            if let Some(interval) = interval {
                stored.retry_interval_secs = interval;
            }
            Ok(())
        })
        .await
        .map_err(|e| store_error(&e))?;
    info!(by = %caller.user, ?attempts, ?interval, "event delivery settings changed");
    Ok(get(service))
}

/// `POST .../Actions/EventService.SubmitTestEvent`: publishes a test
/// event (ResourceEvent's `TestMessage`, or a `MessageId` this service
/// sends, with `MessageArgs` and `OriginOfCondition`).
pub fn submit_test_event(
    service: &Service,
    caller: &Caller,
    request: &Request,
) -> Result<Reply, ApiError> {
    let body = if request.body.iter().all(u8::is_ascii_whitespace) {
        Map::new()
    } else {
        body_object(&request.body)?
    };
    let mut key = "TestMessage".to_owned();
    let mut args = Vec::new();
    let mut origin = PATH.to_owned();
    for (name, value) in &body {
        match name.as_str() {
            "MessageId" => {
                let id = value.as_str().ok_or_else(|| {
                    ApiError::action_parameter_value_not_in_list(&value.to_string(), name, SUBMIT)
                })?;
                key = id.rsplit('.').next().unwrap_or(id).to_owned();
            }
            "MessageArgs" => {
                args = value
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default();
            }
            "OriginOfCondition" => {
                origin = value
                    .as_str()
                    .or_else(|| value["@odata.id"].as_str())
                    .unwrap_or(PATH)
                    .to_owned();
            }
            "EventId" | "EventTimestamp" | "EventGroupId" | "Message" | "Severity"
            | "MessageSeverity" | "EventType" => {}
            k if k.contains('@') => {}
            _ => return Err(ApiError::action_parameter_unknown(SUBMIT, name)),
        }
    }
    let message = EventMessage::new(&key, args, &origin)
        .ok_or_else(|| ApiError::action_parameter_value_not_in_list(&key, "MessageId", SUBMIT))?;
    info!(by = %caller.user, message_id = %message.message_id, "test event submitted");
    service.events.publish(message);
    Ok(Reply::empty(StatusCode::NO_CONTENT))
}

fn subscription_json(subscription: &Subscription) -> Value {
    let origins: Vec<Value> = subscription
        .origin_resources
        .iter()
        .map(|o| json!({ "@odata.id": o }))
        .collect();
    json!({
        "@odata.id": format!("{SUBSCRIPTIONS}/{}", subscription.id),
        "@odata.type": "#EventDestination.v1_17_0.EventDestination",
        "Id": subscription.id,
        "Name": format!("Event Subscription {}", subscription.id),
        "Destination": subscription.destination,
        "Context": subscription.context,
        "Protocol": "Redfish",
        "SubscriptionType": "RedfishEvent",
        "EventFormatType": "Event",
        "RegistryPrefixes": subscription.registry_prefixes,
        "OriginResources": origins,
        "DeliveryRetryPolicy": subscription.retry_policy.name(),
        "VerifyCertificate": subscription.verify_certificate,
        "Status": {
            "State": if subscription.suspended { "Disabled" } else { "Enabled" },
            "Health": "OK",
        },
    })
}

/// `GET .../Subscriptions`.
pub fn subscriptions(service: &Service) -> Reply {
    let members: Vec<Value> = service
        .subscriptions
        .snapshot()
        .subscriptions
        .iter()
        .map(|s| json!({ "@odata.id": format!("{SUBSCRIPTIONS}/{}", s.id) }))
        .collect();
    Reply::ok(json!({
        "@odata.id": SUBSCRIPTIONS,
        "@odata.type": "#EventDestinationCollection.EventDestinationCollection",
        "Name": "Event Subscriptions",
        "Members@odata.count": members.len(),
        "Members": members,
    }))
}

/// `GET .../Subscriptions/{id}`.
pub fn subscription(service: &Service, id: &str) -> Result<Reply, ApiError> {
    service
        .subscriptions
        .snapshot()
        .subscriptions
        .iter()
        .find(|s| s.id == id)
        .map(|s| Reply::ok(subscription_json(s)))
        .ok_or_else(|| ApiError::not_found("EventDestination", id))
}

fn strings(value: &Value, property: &str) -> Result<Vec<String>, ApiError> {
    value
        .as_array()
        .ok_or_else(|| ApiError::property_value_type(&value.to_string(), property))?
        .iter()
        .map(|v| {
            v.as_str()
                .map(str::to_owned)
                .ok_or_else(|| ApiError::property_value_type(&v.to_string(), property))
        })
        .collect()
}

fn retry_policy(value: &Value) -> Result<RetryPolicy, ApiError> {
    match value.as_str() {
        Some("TerminateAfterRetries") => Ok(RetryPolicy::TerminateAfterRetries),
        Some("SuspendRetries") => Ok(RetryPolicy::SuspendRetries),
        _ => Err(ApiError::property_value_not_in_list(
            &value.to_string(),
            "DeliveryRetryPolicy",
        )),
    }
}

/// A `POST` to `Subscriptions`, checked whole.
fn new_subscription(body: &Map<String, Value>) -> Result<Subscription, ApiError> {
    let mut subscription = Subscription {
        id: String::new(),
        destination: String::new(),
        context: String::new(),
        registry_prefixes: Vec::new(),
        origin_resources: Vec::new(),
        verify_certificate: true,
        retry_policy: RetryPolicy::TerminateAfterRetries,
        http_headers: Vec::new(),
        suspended: false,
    };
    let mut protocol = false;
    for (key, value) in body {
        let text = || {
            value
                .as_str()
                .ok_or_else(|| ApiError::property_value_type(&value.to_string(), key))
        };
        match key.as_str() {
            "Destination" => {
                let destination = text()?;
                let uri: Option<hyper::Uri> = destination.parse().ok();
                if !uri
                    .as_ref()
                    .is_some_and(|u| u.scheme_str() == Some("https") && u.host().is_some())
                {
                    return Err(ApiError::property_value_format(destination, key));
                }
                subscription.destination = destination.to_owned();
            }
            "Protocol" => {
                if text()? != "Redfish" {
                    return Err(ApiError::property_value_not_in_list(text()?, key));
                }
                protocol = true;
            }
            "Context" => subscription.context = text()?.to_owned(),
            "SubscriptionType" if text()? == "RedfishEvent" => {}
            "EventFormatType" if text()? == "Event" => {}
            "SubscriptionType" | "EventFormatType" => {
                return Err(ApiError::property_value_not_in_list(text()?, key))
            }
            "RegistryPrefixes" => {
                let prefixes = strings(value, key)?;
                if let Some(unknown) = prefixes.iter().find(|p| !REGISTRIES.contains(&p.as_str())) {
                    return Err(ApiError::property_value_not_in_list(unknown, key));
                }
                subscription.registry_prefixes = prefixes;
            }
            "OriginResources" => {
                subscription.origin_resources = value
                    .as_array()
                    .ok_or_else(|| ApiError::property_value_type(&value.to_string(), key))?
                    .iter()
                    .map(|o| {
                        o["@odata.id"]
                            .as_str()
                            .map(str::to_owned)
                            .ok_or_else(|| ApiError::property_value_type(&o.to_string(), key))
                    })
                    .collect::<Result<_, _>>()?;
            }
            "VerifyCertificate" => {
                subscription.verify_certificate = value
                    .as_bool()
                    .ok_or_else(|| ApiError::property_value_type(&value.to_string(), key))?;
            }
            "DeliveryRetryPolicy" => subscription.retry_policy = retry_policy(value)?,
            "HttpHeaders" => {
                let headers = value
                    .as_array()
                    .ok_or_else(|| ApiError::property_value_type("<hidden>", key))?;
                for header in headers {
                    let object = header
                        .as_object()
                        .ok_or_else(|| ApiError::property_value_type("<hidden>", key))?;
                    for (name, value) in object {
                        let value = value
                            .as_str()
                            .ok_or_else(|| ApiError::property_value_type("<hidden>", key))?;
                        if hyper::header::HeaderName::from_bytes(name.as_bytes()).is_err()
                            || hyper::header::HeaderValue::from_str(value).is_err()
                        {
                            return Err(ApiError::property_value_format("<hidden>", key));
                        }
                        subscription
                            .http_headers
                            .push((name.clone(), value.to_owned()));
                    }
                }
            }
            k if k.contains('@') => {}
            "Id" | "Name" | "Status" => return Err(ApiError::property_not_writable(key)),
            _ => return Err(ApiError::property_unknown(key)),
        }
    }
    if subscription.destination.is_empty() {
        return Err(ApiError::property_missing("Destination"));
    }
    if !protocol {
        return Err(ApiError::property_missing("Protocol"));
    }
    Ok(subscription)
}

/// `POST .../Subscriptions`.
pub async fn create(
    service: &Service,
    caller: &Caller,
    request: &Request,
) -> Result<Reply, ApiError> {
    let mut subscription = new_subscription(&body_object(&request.body)?)?;
    let id = service
        .subscriptions
        .change(|stored| {
            if stored.subscriptions.len() >= MAX_SUBSCRIPTIONS {
                return Err(ChangeError::Full);
            }
            subscription.id = stored.next_id.to_string();
            stored.next_id += 1;
            stored.subscriptions.push(subscription.clone());
            Ok(subscription.id.clone())
        })
        .await
        .map_err(|e| store_error(&e))?;
    service.subscriptions.start(&id, &service.events);
    info!(by = %caller.user, id, destination = %subscription.destination, "event subscription created");
    let location = format!("{SUBSCRIPTIONS}/{id}");
    Ok(
        Reply::with_status(StatusCode::CREATED, subscription_json(&subscription))
            .with_header(header::LOCATION, &location),
    )
}

/// `PATCH .../Subscriptions/{id}`: `Context`, `DeliveryRetryPolicy`, and
/// `Status/State` `Enabled` to resume a suspended one.
pub async fn patch_subscription(
    service: &Service,
    caller: &Caller,
    id: &str,
    request: &Request,
) -> Result<Reply, ApiError> {
    let body = body_object(&request.body)?;
    let (mut context, mut policy, mut resume) = (None, None, false);
    for (key, value) in &body {
        match key.as_str() {
            "Context" => {
                context = Some(
                    value
                        .as_str()
                        .ok_or_else(|| ApiError::property_value_type(&value.to_string(), key))?
                        .to_owned(),
                );
            }
            "DeliveryRetryPolicy" => policy = Some(retry_policy(value)?),
            "Status" => match value["State"].as_str() {
                Some("Enabled") => resume = true,
                _ => {
                    return Err(ApiError::property_value_not_in_list(
                        &value.to_string(),
                        "Status/State",
                    ))
                }
            },
            k if k.contains('@') => {}
            "Id" | "Name" | "Destination" | "Protocol" | "SubscriptionType" | "EventFormatType"
            | "RegistryPrefixes" | "OriginResources" | "VerifyCertificate" => {
                return Err(ApiError::property_not_writable(key))
            }
            _ => return Err(ApiError::property_unknown(key)),
        }
    }
    service
        .subscriptions
        .change(|stored| {
            let subscription = stored
                .subscriptions
                .iter_mut()
                .find(|s| s.id == id)
                .ok_or(ChangeError::NotFound)?;
            if let Some(context) = context {
                subscription.context = context;
            }
            if let Some(policy) = policy {
                subscription.retry_policy = policy;
            }
            if resume {
                subscription.suspended = false;
            }
            Ok(())
        })
        .await
        .map_err(|e| match e {
            ChangeError::NotFound => ApiError::not_found("EventDestination", id),
            other => store_error(&other),
        })?;
    info!(by = %caller.user, id, "event subscription changed");
    subscription(service, id)
}

/// `DELETE .../Subscriptions/{id}`.
pub async fn delete(service: &Service, caller: &Caller, id: &str) -> Result<Reply, ApiError> {
    service
        .subscriptions
        .change(|stored| {
            let before = stored.subscriptions.len();
            stored.subscriptions.retain(|s| s.id != id);
            if stored.subscriptions.len() == before {
                return Err(ChangeError::NotFound);
            }
            Ok(())
        })
        .await
        .map_err(|e| match e {
            ChangeError::NotFound => ApiError::not_found("EventDestination", id),
            other => store_error(&other),
        })?;
    service.subscriptions.stop(id);
    info!(by = %caller.user, id, "event subscription deleted");
    Ok(Reply::empty(StatusCode::NO_CONTENT))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn a_subscription_needs_an_https_destination_and_the_redfish_protocol() {
        let ok = new_subscription(&object(json!({
            "Destination": "https://10.0.0.9:8443/events", "Protocol": "Redfish",
            "Context": "rack 4", "RegistryPrefixes": ["SensorEvent"],
            "HttpHeaders": [{"Authorization": "Bearer x"}], "VerifyCertificate": false
        })))
        .unwrap();
        assert_eq!(ok.context, "rack 4");
        assert_eq!(
            ok.http_headers,
            vec![("Authorization".into(), "Bearer x".into())]
        );
        for (body, id) in [
            (
                json!({"Destination": "http://10.0.0.9/e", "Protocol": "Redfish"}),
                "PropertyValueFormatError",
            ),
            (
                json!({"Destination": "https://10.0.0.9/e"}),
                "PropertyMissing",
            ),
            (
                json!({"Destination": "https://10.0.0.9/e", "Protocol": "SNMPv2c"}),
                "PropertyValueNotInList",
            ),
            (
                json!({"Destination": "https://h/e", "Protocol": "Redfish", "RegistryPrefixes": ["Nope"]}),
                "PropertyValueNotInList",
            ),
            (
                json!({"Destination": "https://h/e", "Protocol": "Redfish", "DeliveryRetryPolicy": "RetryForever"}),
                "PropertyValueNotInList",
            ),
            (
                json!({"Destination": "https://h/e", "Protocol": "Redfish", "Shoe": 1}),
                "PropertyUnknown",
            ),
        ] {
            assert_eq!(
                new_subscription(&object(body.clone()))
                    .unwrap_err()
                    .messages()[0]
                    .name,
                id,
                "{body}"
            );
        }
    }

    #[test]
    fn headers_are_never_shown_back() {
        let subscription = new_subscription(&object(json!({
            "Destination": "https://h/e", "Protocol": "Redfish",
            "HttpHeaders": [{"Authorization": "Bearer secret"}]
        })))
        .unwrap();
        assert!(!subscription_json(&subscription)
            .to_string()
            .contains("secret"));
    }
}
