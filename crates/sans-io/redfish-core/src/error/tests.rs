use super::*;

#[test]
fn an_error_body_names_its_base_message_with_arguments() {
    let error = ApiError::property_value_not_in_list("Floppy", "Boot/BootSourceOverrideTarget");
    assert_eq!(error.status(), 400);
    let body = error.body();
    let id = "Base.1.20.0.PropertyValueNotInList";
    assert_eq!(body["error"]["code"], id);
    let info = &body["error"]["@Message.ExtendedInfo"][0];
    assert_eq!(info["MessageId"], id);
    assert_eq!(
        info["Message"],
        "The value 'Floppy' for the property Boot/BootSourceOverrideTarget is not in the list of acceptable values."
    );
    assert_eq!(
        info["MessageArgs"],
        json!(["Floppy", "Boot/BootSourceOverrideTarget"])
    );
    assert_eq!(
        info["RelatedProperties"],
        json!(["#/Boot/BootSourceOverrideTarget"])
    );
}

#[test]
fn every_message_used_is_defined_with_as_many_arguments_as_it_takes() {
    let errors = [
        ApiError::malformed_json(),
        ApiError::property_unknown("A"),
        ApiError::property_not_writable("A"),
        ApiError::property_value_type("1", "A"),
        ApiError::property_value_incorrect("A", "1"),
        ApiError::property_missing("A"),
        ApiError::action_parameter_missing("X", "A"),
        ApiError::action_parameter_unknown("X", "A"),
        ApiError::action_parameter_value_not_in_list("v", "A", "X"),
        ApiError::query_parameter_type("v", "$top"),
        ApiError::query_not_supported(),
        ApiError::header_invalid("Last-Event-ID: x"),
        ApiError::property_value_conflict("A", "B"),
        ApiError::not_found("Sensor", "x"),
        ApiError::already_exists("ManagerAccount", "UserName", "bob"),
        ApiError::no_valid_session(),
        ApiError::insufficient_privilege(),
        ApiError::method_not_allowed("GET"),
        ApiError::precondition_failed(),
        ApiError::payload_too_large(1),
        ApiError::session_limit(),
        ApiError::create_limit(),
        ApiError::unavailable(5),
        ApiError::internal(),
    ];
    for error in errors {
        for message in error.messages() {
            let definition = definition(message.name);
            assert_eq!(
                definition.name, message.name,
                "{} is not defined",
                message.name
            );
            let placeholders = (1..=9)
                .filter(|n| definition.text.contains(&format!("%{n}")))
                .count();
            assert_eq!(placeholders, message.args.len(), "{}", message.name);
            assert!(!message.text().contains('%'), "{}", message.text());
        }
    }
}

#[test]
fn every_message_here_is_the_published_base_registrys() {
    let base = crate::registries::find("Base").expect("Base");
    assert_eq!(BASE_REGISTRY, format!("Base.{}", base.version));
    for definition in DEFINITIONS {
        let published = base.message(definition.name).expect(definition.name);
        assert_eq!(published["Message"], definition.text, "{}", definition.name);
        assert_eq!(
            published["MessageSeverity"], definition.severity,
            "{}",
            definition.name
        );
        assert_eq!(
            published["Resolution"], definition.resolution,
            "{}",
            definition.name
        );
        let args = (1..=9)
            .filter(|n| definition.text.contains(&format!("%{n}")))
            .count();
        assert_eq!(published["NumberOfArgs"], args, "{}", definition.name);
    }
}
