//! Errors as Redfish clients expect them (DSP0266 §9.6 "Error responses"):
//! an HTTP status and a body whose `error` names a Base registry message,
//! with each message in `@Message.ExtendedInfo`: its `MessageId`
//! (`Base.<version>.<Name>`; DMTF's Base registry 1.20.0, whose texts
//! are 1.19.0's, the version bmcweb carries, for every message used here), the text with its arguments filled in,
//! the arguments, the properties it is about, severity and resolution.

use serde_json::{json, Value};

/// The Base registry this service's messages come from.
pub const BASE_REGISTRY: &str = "Base.1.20.0";

/// A Base registry message: its name, text (`%1`... for arguments),
/// severity and resolution.
struct Definition {
    name: &'static str,
    text: &'static str,
    severity: &'static str,
    resolution: &'static str,
}

const fn define(
    name: &'static str,
    text: &'static str,
    severity: &'static str,
    resolution: &'static str,
) -> Definition {
    Definition {
        name,
        text,
        severity,
        resolution,
    }
}

const DEFINITIONS: &[Definition] = &[
    define(
        "GeneralError",
        "A general error has occurred.  See Resolution for information on how to resolve the error, or @Message.ExtendedInfo if Resolution is not provided.",
        "Critical",
        "None.",
    ),
    define(
        "Success",
        "The request completed successfully.",
        "OK",
        "None.",
    ),
    define(
        "Created",
        "The resource was created successfully.",
        "OK",
        "None.",
    ),
    define(
        "NoOperation",
        "The request body submitted contain no data to act upon and no changes to the resource took place.",
        "Warning",
        "Add properties in the JSON object and resubmit the request.",
    ),
    define(
        "MalformedJSON",
        "The request body submitted was malformed JSON and could not be parsed by the receiving service.",
        "Critical",
        "Ensure that the request body is valid JSON and resubmit the request.",
    ),
    define(
        "PropertyUnknown",
        "The property %1 is not in the list of valid properties for the resource.",
        "Warning",
        "Remove the unknown property from the request body and resubmit the request if the operation failed.",
    ),
    define(
        "PropertyNotWritable",
        "The property %1 is a read-only property and cannot be assigned a value.",
        "Warning",
        "Remove the property from the request body and resubmit the request if the operation failed.",
    ),
    define(
        "PropertyValueNotInList",
        "The value '%1' for the property %2 is not in the list of acceptable values.",
        "Warning",
        "Choose a value from the enumeration list that the implementation can support and resubmit the request if the operation failed.",
    ),
    define(
        "PropertyValueTypeError",
        "The value '%1' for the property %2 is not a type that the property can accept.",
        "Warning",
        "Correct the value for the property in the request body and resubmit the request if the operation failed.",
    ),
    define(
        "PropertyValueIncorrect",
        "The property '%1' with the requested value of '%2' could not be written because the value does not meet the constraints of the implementation.",
        "Warning",
        "None.",
    ),
    define(
        "PropertyMissing",
        "The property %1 is a required property and must be included in the request.",
        "Warning",
        "Ensure that the property is in the request body and has a valid value and resubmit the request if the operation failed.",
    ),
    define(
        "ResourceNotFound",
        "The requested resource of type %1 named '%2' was not found.",
        "Critical",
        "Provide a valid resource identifier and resubmit the request.",
    ),
    define(
        "ResourceAlreadyExists",
        "The requested resource of type %1 with the property %2 with the value '%3' already exists.",
        "Critical",
        "Do not repeat the create operation as the resource was already created.",
    ),
    define(
        "CreateLimitReachedForResource",
        "The create operation failed because the resource has reached the limit of possible resources.",
        "Critical",
        "Either delete resources and resubmit the request if the operation failed or do not resubmit the request.",
    ),
    define(
        "InsufficientPrivilege",
        "There are insufficient privileges for the account or credentials associated with the current session to perform the requested operation.",
        "Critical",
        "Either abandon the operation or change the associated access rights and resubmit the request if the operation failed.",
    ),
    define(
        "NoValidSession",
        "There is no valid session established with the implementation.",
        "Critical",
        "Establish a session before attempting any operations.",
    ),
    define(
        "PreconditionFailed",
        "The ETag supplied did not match the ETag required to change this resource.",
        "Critical",
        "Try the operation again using the appropriate ETag.",
    ),
    define(
        "OperationNotAllowed",
        "The HTTP method is not allowed on this resource.",
        "Critical",
        "None.",
    ),
    define(
        "ActionNotSupported",
        "The action %1 is not supported by the resource.",
        "Critical",
        "Check the Actions property in the resource for the supported actions.",
    ),
    define(
        "ActionParameterMissing",
        "The action %1 requires the parameter %2 to be present in the request body.",
        "Critical",
        "Supply the action with the required parameter in the request body when the request is resubmitted.",
    ),
    define(
        "ActionParameterUnknown",
        "The action %1 was submitted with the invalid parameter %2.",
        "Warning",
        "Correct the invalid action parameter and resubmit the request if the operation failed.",
    ),
    define(
        "ActionParameterValueNotInList",
        "The value '%1' for the parameter %2 in the action %3 is not in the list of acceptable values.",
        "Warning",
        "Choose a value from the enumeration list that the implementation can support and resubmit the request if the operation failed.",
    ),
    define(
        "QueryParameterValueTypeError",
        "The value '%1' for the query parameter %2 is not a type that the parameter can accept.",
        "Warning",
        "Correct the value for the query parameter in the request and resubmit the request if the operation failed.",
    ),
    define(
        "QueryNotSupported",
        "Querying is not supported by the implementation.",
        "Warning",
        "Remove the query parameters and resubmit the request if the operation failed.",
    ),
    define(
        "QueryNotSupportedOnResource",
        "Querying is not supported on the requested resource.",
        "Warning",
        "Remove the query parameters and resubmit the request if the operation failed.",
    ),
    define(
        "SessionLimitExceeded",
        "The session establishment failed due to the number of simultaneous sessions exceeding the limit of the implementation.",
        "Critical",
        "Reduce the number of other sessions before trying to establish the session or increase the limit of simultaneous sessions, if supported.",
    ),
    define(
        "PayloadTooLarge",
        "The supplied payload exceeds the maximum size supported by the service.",
        "Critical",
        "Check that the supplied payload is correct and supported by this service.",
    ),
    define(
        "ServiceTemporarilyUnavailable",
        "The service is temporarily unavailable.  Retry in %1 seconds.",
        "Critical",
        "Wait for the indicated retry duration and retry the operation.",
    ),
    define(
        "InsufficientStorage",
        "Insufficient storage or memory available to complete the request.",
        "Critical",
        "Increase the free storage space available to the service and resubmit the request.",
    ),
    define(
        "PropertyValueFormatError",
        "The value '%1' for the property %2 is not a format that the property can accept.",
        "Warning",
        "Correct the value for the property in the request body and resubmit the request if the operation failed.",
    ),
    define(
        "QueryParameterOutOfRange",
        "The value '%1' for the query parameter %2 is out of range %3.",
        "Warning",
        "Reduce the value for the query parameter to a value that is within range, such as a start or count value that is within bounds of the number of resources in a collection or a page number that is within the range of valid pages.",
    ),
    define(
        "QueryParameterValueFormatError",
        "The value '%1' for the parameter %2 is not a format that the parameter can accept.",
        "Warning",
        "Correct the value for the query parameter in the request and resubmit the request if the operation failed.",
    ),
    define(
        "EventSubscriptionLimitExceeded",
        "The event subscription failed due to the number of simultaneous subscriptions exceeding the limit of the implementation.",
        "Critical",
        "Reduce the number of other subscriptions before trying to establish the event subscription or increase the limit of simultaneous subscriptions, if supported.",
    ),
    define(
        "PropertyValueConflict",
        "The property '%1' could not be written because its value would conflict with the value of the '%2' property.",
        "Warning",
        "None.",
    ),
    define(
        "HeaderInvalid",
        "Header '%1' is invalid.",
        "Critical",
        "Resubmit the request with a valid request header.",
    ),
    define(
        "InternalError",
        "The request failed due to an internal service error.  The service is still operational.",
        "Critical",
        "Resubmit the request.  If the problem persists, consider resetting the service.",
    ),
];

fn definition(name: &str) -> &'static Definition {
    DEFINITIONS
        .iter()
        .find(|d| d.name == name)
        .unwrap_or(&DEFINITIONS[0])
}

/// One message: a Base registry name, its arguments, and the properties
/// it is about (JSON pointers, `#/Name`).
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Message {
    /// The message's name in the Base registry.
    pub name: &'static str,
    /// Its arguments, in order.
    pub args: Vec<String>,
    /// The properties it is about.
    pub related: Vec<String>,
}

impl Message {
    /// A message without arguments.
    pub fn new(name: &'static str) -> Self {
        Self {
            name,
            args: Vec::new(),
            related: Vec::new(),
        }
    }

    /// Adds an argument.
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Says which property it is about.
    pub fn about(mut self, property: &str) -> Self {
        self.related
            .push(format!("#/{}", property.replace('.', "/")));
        self
    }

    /// `Base.1.20.0.<Name>`.
    pub fn id(&self) -> String {
        format!("{BASE_REGISTRY}.{}", self.name)
    }

    /// The text with its arguments.
    pub fn text(&self) -> String {
        let mut text = definition(self.name).text.to_owned();
        // %10 before %1: no message here has ten arguments, but keep it
        // right.
        for (i, arg) in self.args.iter().enumerate().rev() {
            text = text.replace(&format!("%{}", i + 1), arg);
        }
        text
    }

    /// The `Message` object of `@Message.ExtendedInfo`.
    pub fn to_json(&self) -> Value {
        let definition = definition(self.name);
        let mut message = json!({
            "@odata.type": "#Message.v1_3_0.Message",
            "MessageId": self.id(),
            "Message": self.text(),
            "MessageArgs": self.args,
            "MessageSeverity": definition.severity,
            "Resolution": definition.resolution,
        });
        if !self.related.is_empty() {
            message["RelatedProperties"] = json!(self.related);
        }
        message
    }
}

/// A refused or failed request: its status and messages.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct ApiError {
    status: u16,
    messages: Vec<Message>,
    allow: Option<&'static str>,
}

impl ApiError {
    /// `status` with `messages` (at least one).
    pub fn new(status: u16, messages: Vec<Message>) -> Self {
        Self {
            status,
            messages,
            allow: None,
        }
    }

    fn one(status: u16, message: Message) -> Self {
        Self::new(status, vec![message])
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The messages.
    pub fn messages(&self) -> &[Message] {
        &self.messages
    }

    /// The methods the resource allows, for a 405's `Allow` header.
    pub fn allow(&self) -> Option<&'static str> {
        self.allow
    }

    /// 400: the body is not JSON (or not an object).
    pub fn malformed_json() -> Self {
        Self::one(400, Message::new("MalformedJSON"))
    }

    /// 400: `property` does not exist on the resource.
    pub fn property_unknown(property: &str) -> Self {
        Self::one(
            400,
            Message::new("PropertyUnknown")
                .arg(property)
                .about(property),
        )
    }

    /// 400: `property` is read-only.
    pub fn property_not_writable(property: &str) -> Self {
        Self::one(
            400,
            Message::new("PropertyNotWritable")
                .arg(property)
                .about(property),
        )
    }

    /// 400: `value` is not one of `property`'s allowed values.
    pub fn property_value_not_in_list(value: &str, property: &str) -> Self {
        Self::one(
            400,
            Message::new("PropertyValueNotInList")
                .arg(value)
                .arg(property)
                .about(property),
        )
    }

    /// 400: `value` has the wrong type for `property`.
    pub fn property_value_type(value: &str, property: &str) -> Self {
        Self::one(
            400,
            Message::new("PropertyValueTypeError")
                .arg(value)
                .arg(property)
                .about(property),
        )
    }

    /// 400: `value` is not valid for `property` (a rule the owner applies,
    /// such as the password rules).
    pub fn property_value_incorrect(property: &str, value: &str) -> Self {
        Self::one(
            400,
            Message::new("PropertyValueIncorrect")
                .arg(property)
                .arg(value)
                .about(property),
        )
    }

    /// 400: the body asks for no change this resource makes.
    pub fn no_operation() -> Self {
        Self::one(400, Message::new("NoOperation"))
    }

    /// 400: `property` is required.
    pub fn property_missing(property: &str) -> Self {
        Self::one(
            400,
            Message::new("PropertyMissing")
                .arg(property)
                .about(property),
        )
    }

    /// 400: an action's parameter is missing.
    pub fn action_parameter_missing(action: &str, parameter: &str) -> Self {
        Self::one(
            400,
            Message::new("ActionParameterMissing")
                .arg(action)
                .arg(parameter)
                .about(parameter),
        )
    }

    /// 400: an action was given a parameter it does not take.
    pub fn action_parameter_unknown(action: &str, parameter: &str) -> Self {
        Self::one(
            400,
            Message::new("ActionParameterUnknown")
                .arg(action)
                .arg(parameter)
                .about(parameter),
        )
    }

    /// 400: an action's parameter value is not allowed.
    pub fn action_parameter_value_not_in_list(value: &str, parameter: &str, action: &str) -> Self {
        Self::one(
            400,
            Message::new("ActionParameterValueNotInList")
                .arg(value)
                .arg(parameter)
                .arg(action)
                .about(parameter),
        )
    }

    /// 400: a query parameter's value has the wrong type.
    pub fn query_parameter_type(value: &str, parameter: &str) -> Self {
        Self::one(
            400,
            Message::new("QueryParameterValueTypeError")
                .arg(value)
                .arg(parameter),
        )
    }

    /// 400: a query parameter's value is outside `range`.
    pub fn query_parameter_out_of_range(value: &str, parameter: &str, range: &str) -> Self {
        Self::one(
            400,
            Message::new("QueryParameterOutOfRange")
                .arg(value)
                .arg(parameter)
                .arg(range),
        )
    }

    /// 400: a query parameter's value has a format it cannot take.
    pub fn query_parameter_format(value: &str, parameter: &str) -> Self {
        Self::one(
            400,
            Message::new("QueryParameterValueFormatError")
                .arg(value)
                .arg(parameter),
        )
    }

    /// 501: a query option (`$filter`, ...) the service does not support.
    pub fn query_not_supported() -> Self {
        Self::one(501, Message::new("QueryNotSupported"))
    }

    /// 404: no resource of `kind` at `name`.
    pub fn not_found(kind: &str, name: &str) -> Self {
        Self::one(404, Message::new("ResourceNotFound").arg(kind).arg(name))
    }

    /// 409: a resource of `kind` with `property` = `value` exists.
    pub fn already_exists(kind: &str, property: &str, value: &str) -> Self {
        Self::one(
            409,
            Message::new("ResourceAlreadyExists")
                .arg(kind)
                .arg(property)
                .arg(value)
                .about(property),
        )
    }

    /// 401: no valid credentials or session.
    pub fn no_valid_session() -> Self {
        Self::one(401, Message::new("NoValidSession"))
    }

    /// 403: the caller's role lacks the privilege.
    pub fn insufficient_privilege() -> Self {
        Self::one(403, Message::new("InsufficientPrivilege"))
    }

    /// 405: the method is not allowed; `allow` lists the ones that are.
    pub fn method_not_allowed(allow: &'static str) -> Self {
        Self {
            allow: Some(allow),
            ..Self::one(405, Message::new("OperationNotAllowed"))
        }
    }

    /// 412: the `If-Match` ETag is stale.
    pub fn precondition_failed() -> Self {
        Self::one(412, Message::new("PreconditionFailed"))
    }

    /// 413: the body is larger than `limit` bytes.
    pub fn payload_too_large(_limit: usize) -> Self {
        Self::one(413, Message::new("PayloadTooLarge"))
    }

    /// 503: every session slot is taken.
    pub fn session_limit() -> Self {
        Self::one(503, Message::new("SessionLimitExceeded"))
    }

    /// 400: the collection is full.
    pub fn create_limit() -> Self {
        Self::one(400, Message::new("CreateLimitReachedForResource"))
    }

    /// 503: an owner did not answer; retry after `seconds`.
    pub fn unavailable(seconds: u32) -> Self {
        Self::one(
            503,
            Message::new("ServiceTemporarilyUnavailable").arg(seconds.to_string()),
        )
    }

    /// 400: `value` has the right type but a format `property` cannot
    /// take (a secret is shown as `<hidden>`, never echoed).
    pub fn property_value_format(value: &str, property: &str) -> Self {
        Self::one(
            400,
            Message::new("PropertyValueFormatError")
                .arg(value)
                .arg(property)
                .about(property),
        )
    }

    /// 507: the owner could not store the change (its disk is full).
    pub fn insufficient_storage() -> Self {
        Self::one(507, Message::new("InsufficientStorage"))
    }

    /// 400: `property` cannot take its value while `other` has its own.
    pub fn property_value_conflict(property: &str, other: &str) -> Self {
        Self::one(
            400,
            Message::new("PropertyValueConflict")
                .arg(property)
                .arg(other)
                .about(property),
        )
    }

    /// 400: the request header `header` (name and value) is malformed.
    pub fn header_invalid(header: &str) -> Self {
        Self::one(400, Message::new("HeaderInvalid").arg(header))
    }

    /// 500: something failed inside.
    pub fn internal() -> Self {
        Self::one(500, Message::new("InternalError"))
    }

    /// The response body.
    pub fn body(&self) -> Value {
        let first = self
            .messages
            .first()
            .cloned()
            .unwrap_or_else(|| Message::new("GeneralError"));
        json!({
            "error": {
                "code": first.id(),
                "message": first.text(),
                "@Message.ExtendedInfo": self.messages.iter().map(Message::to_json).collect::<Vec<_>>(),
            }
        })
    }
}

#[cfg(test)]
mod tests;
