//! [`ModelDefinition`]: the content of a Model stream, versions 1.0 and 2.0, parsed strictly.
//!
//! Shapes follow js-ceramic's codecs (`packages/stream-model/src/codecs.ts`:
//! `ModelDefinitionV1`, `ModelDefinitionV2`, `ModelAccountRelation(V2)`,
//! `ModelRelationDefinition(V2)`, `Model*ViewDefinition(V2)`) and the key list of
//! `ModelHandler` (`ALLOWED_CONTENT_KEYS`).

use std::collections::BTreeMap;

use ceramic_streamid::StreamId;
use serde_json::{Map, Value, json};

use crate::DefinitionError;
use crate::schema::check_schema;

/// The keys a model definition may have (js `ALLOWED_CONTENT_KEYS`).
const ALLOWED_KEYS: [&str; 10] = [
    "version",
    "name",
    "description",
    "schema",
    "accountRelation",
    "relations",
    "views",
    "interface",
    "implements",
    "immutableFields",
];

/// A model definition: the content of a Model stream.
#[derive(Debug, Clone, PartialEq)]
pub enum ModelDefinition {
    /// Version `"1.0"`.
    V1(ModelDefinitionV1),
    /// Version `"2.0"`.
    V2(ModelDefinitionV2),
}

/// A version 1.0 definition: `list` or `single` account relations, relations and views that
/// always name their model.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelDefinitionV1 {
    /// The model's name.
    pub name: String,
    /// An optional description.
    pub description: Option<String>,
    /// The JSON schema (draft 2020-12) of the instances' content.
    pub schema: Map<String, Value>,
    /// How many instances an account may have.
    pub account_relation: AccountRelation,
    /// Fields of the content that point to accounts or documents.
    pub relations: Option<BTreeMap<String, Relation>>,
    /// Read-only fields computed by indexers.
    pub views: Option<BTreeMap<String, View>>,
}

/// A version 2.0 definition: adds interfaces, `implements`, immutable fields, the `set` and
/// `none` account relations and relations to any model.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelDefinitionV2 {
    /// The model's name.
    pub name: String,
    /// An optional description.
    pub description: Option<String>,
    /// Whether this model is an interface (no instances of its own).
    pub interface: bool,
    /// The interface models this model implements.
    pub implements: Vec<StreamId>,
    /// The JSON schema (draft 2020-12) of the instances' content.
    pub schema: Map<String, Value>,
    /// Top-level content fields that may not change after they are first written.
    pub immutable_fields: Option<Vec<String>>,
    /// How many instances an account may have.
    pub account_relation: AccountRelation,
    /// Fields of the content that point to accounts or documents.
    pub relations: Option<BTreeMap<String, Relation>>,
    /// Read-only fields computed by indexers.
    pub views: Option<BTreeMap<String, View>>,
}

/// How many instances of a model an account may have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountRelation {
    /// Any number, each with 12 random `unique` bytes.
    List,
    /// One per account: the deterministic genesis has no `unique` and no content.
    Single,
    /// One per account and value of `fields`: `unique` is those values joined by `|` (v2).
    Set {
        /// The content fields that make an instance unique.
        fields: Vec<String>,
    },
    /// No account relation (v2).
    None,
}

impl AccountRelation {
    /// The name js uses (`list`, `single`, `set`, `none`).
    pub fn name(&self) -> &'static str {
        match self {
            AccountRelation::List => "list",
            AccountRelation::Single => "single",
            AccountRelation::Set { .. } => "set",
            AccountRelation::None => "none",
        }
    }

    /// Whether instances are created deterministically (`single` and `set`).
    pub fn is_deterministic(&self) -> bool {
        matches!(self, AccountRelation::Single | AccountRelation::Set { .. })
    }
}

/// A relation from a content field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Relation {
    /// The field holds an account (a DID).
    Account,
    /// The field holds the StreamID of a Model Instance Document, of `model` when given (v1
    /// always gives one; v2 allows `null`: any model).
    Document {
        /// The model the document must use (or implement).
        model: Option<StreamId>,
    },
}

/// A view: a field an indexer computes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum View {
    /// The document's controller.
    DocumentAccount,
    /// The document's version.
    DocumentVersion,
    /// The document a relation field points to.
    RelationDocument {
        /// Its model (`null` allowed in v2).
        model: Option<StreamId>,
        /// The relation field.
        property: String,
    },
    /// Documents of `model` whose `property` points here.
    RelationFrom {
        /// Their model.
        model: StreamId,
        /// Their relation field.
        property: String,
    },
    /// How many documents of `model` point here.
    RelationCountFrom {
        /// Their model.
        model: StreamId,
        /// Their relation field.
        property: String,
    },
    /// Documents of a `set` model pointing here (v2).
    RelationSetFrom {
        /// Their model.
        model: StreamId,
        /// Their relation field.
        property: String,
    },
}

impl View {
    fn type_name(&self) -> &'static str {
        match self {
            View::DocumentAccount => "documentAccount",
            View::DocumentVersion => "documentVersion",
            View::RelationDocument { .. } => "relationDocument",
            View::RelationFrom { .. } => "relationFrom",
            View::RelationCountFrom { .. } => "relationCountFrom",
            View::RelationSetFrom { .. } => "relationSetFrom",
        }
    }
}

/// The object at `value`, or `err`.
fn object<'a>(
    value: &'a Value,
    field: &'static str,
) -> Result<&'a Map<String, Value>, DefinitionError> {
    value
        .as_object()
        .ok_or(DefinitionError::WrongType { field: field.into(), expected: "an object" })
}

fn string(value: &Value, field: &str) -> Result<String, DefinitionError> {
    value
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| DefinitionError::WrongType { field: field.into(), expected: "a string" })
}

fn stream_id(value: &Value, field: &str) -> Result<StreamId, DefinitionError> {
    let text = string(value, field)?;
    text.parse().map_err(|_| DefinitionError::InvalidStreamId { field: field.into(), value: text })
}

/// A `strict({type: ..., ...})` object: its `type` and its map. Like js's codeco `strict`
/// codecs (which strip unknown keys rather than refuse them) and rust-ceramic's serde types,
/// keys other than the ones a type reads are ignored.
fn tagged<'a>(
    value: &'a Value,
    field: &str,
) -> Result<(&'a str, &'a Map<String, Value>), DefinitionError> {
    let map = value
        .as_object()
        .ok_or_else(|| DefinitionError::WrongType { field: field.into(), expected: "an object" })?;
    let kind = map
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| DefinitionError::Missing { field: format!("{field}.type") })?;
    Ok((kind, map))
}

fn required<'a>(
    map: &'a Map<String, Value>,
    parent: &str,
    key: &str,
) -> Result<&'a Value, DefinitionError> {
    map.get(key).ok_or_else(|| DefinitionError::Missing { field: format!("{parent}.{key}") })
}

fn parse_account_relation(value: &Value, v2: bool) -> Result<AccountRelation, DefinitionError> {
    let field = "accountRelation";
    let (kind, map) = tagged(value, field)?;
    let relation = match kind {
        "list" => AccountRelation::List,
        "single" => AccountRelation::Single,
        "none" if v2 => AccountRelation::None,
        "set" if v2 => {
            let fields = required(map, field, "fields")?
                .as_array()
                .ok_or(DefinitionError::WrongType {
                    field: "accountRelation.fields".into(),
                    expected: "an array of strings",
                })?
                .iter()
                .map(|f| string(f, "accountRelation.fields"))
                .collect::<Result<Vec<_>, _>>()?;
            return Ok(AccountRelation::Set { fields });
        }
        other => {
            return Err(DefinitionError::UnknownType { field: field.into(), kind: other.into() });
        }
    };
    Ok(relation)
}

fn parse_relations(value: &Value, v2: bool) -> Result<BTreeMap<String, Relation>, DefinitionError> {
    let mut out = BTreeMap::new();
    for (name, relation) in object(value, "relations")? {
        let field = format!("relations.{name}");
        let (kind, map) = tagged(relation, &field)?;
        let parsed = match kind {
            "account" => Relation::Account,
            "document" => {
                let model = required(map, &field, "model")?;
                let model = match model {
                    Value::Null if v2 => None,
                    other => Some(stream_id(other, &format!("{field}.model"))?),
                };
                Relation::Document { model }
            }
            other => return Err(DefinitionError::UnknownType { field, kind: other.into() }),
        };
        out.insert(name.clone(), parsed);
    }
    Ok(out)
}

fn parse_views(value: &Value, v2: bool) -> Result<BTreeMap<String, View>, DefinitionError> {
    let mut out = BTreeMap::new();
    for (name, view) in object(value, "views")? {
        let field = format!("views.{name}");
        let (kind, map) = tagged(view, &field)?;
        let parsed = match kind {
            "documentAccount" => View::DocumentAccount,
            "documentVersion" => View::DocumentVersion,
            "relationDocument" | "relationFrom" | "relationCountFrom" | "relationSetFrom" => {
                let property = string(required(map, &field, "property")?, &field)?;
                let model_field = format!("{field}.model");
                let model = required(map, &field, "model")?;
                let model = match model {
                    Value::Null if v2 && kind == "relationDocument" => None,
                    other => Some(stream_id(other, &model_field)?),
                };
                let need = |m: Option<StreamId>| {
                    m.ok_or_else(|| DefinitionError::WrongType {
                        field: model_field.clone(),
                        expected: "a StreamID string",
                    })
                };
                match kind {
                    "relationDocument" => View::RelationDocument { model, property },
                    "relationFrom" => View::RelationFrom { model: need(model)?, property },
                    "relationCountFrom" => {
                        View::RelationCountFrom { model: need(model)?, property }
                    }
                    _ if v2 => View::RelationSetFrom { model: need(model)?, property },
                    other => {
                        return Err(DefinitionError::UnknownType { field, kind: other.into() });
                    }
                }
            }
            other => return Err(DefinitionError::UnknownType { field, kind: other.into() }),
        };
        out.insert(name.clone(), parsed);
    }
    Ok(out)
}

fn string_list(value: &Value, field: &'static str) -> Result<Vec<String>, DefinitionError> {
    value
        .as_array()
        .ok_or(DefinitionError::WrongType { field: field.into(), expected: "an array of strings" })?
        .iter()
        .map(|v| string(v, field))
        .collect()
}

impl ModelDefinition {
    /// Parses a definition as js-ceramic's `ModelHandler` accepts it: only the known keys,
    /// `version` `"1.0"` or `"2.0"` with that version's shapes, and a valid schema (an object
    /// schema valid against draft 2020-12 whose object schemas all forbid additional
    /// properties), `set` fields that are required scalar properties, and views that do not
    /// shadow properties; an interface must declare a property or a view.
    ///
    /// Never panics; anything else is a [`DefinitionError`].
    ///
    /// # Errors
    /// The [`DefinitionError`] of the first rule the definition breaks.
    pub fn from_json(value: &Value) -> Result<Self, DefinitionError> {
        let map = value.as_object().ok_or(DefinitionError::NotAnObject)?;
        if let Some(extra) = map.keys().find(|k| !ALLOWED_KEYS.contains(&k.as_str())) {
            return Err(DefinitionError::UnknownKey {
                field: "definition".into(),
                key: extra.clone(),
            });
        }
        let version =
            map.get("version").ok_or(DefinitionError::Missing { field: "version".into() })?;
        let v2 = match version.as_str() {
            Some("1.0") => false,
            Some("2.0") => true,
            _ => return Err(DefinitionError::UnsupportedVersion(version.to_string())),
        };
        let get = |key: &str| map.get(key);
        let name =
            string(get("name").ok_or(DefinitionError::Missing { field: "name".into() })?, "name")?;
        let description = match get("description") {
            None => None,
            Some(d) => Some(string(d, "description")?),
        };
        let schema_value =
            get("schema").ok_or(DefinitionError::Missing { field: "schema".into() })?;
        let schema = object(schema_value, "schema")?.clone();
        let account_relation = parse_account_relation(
            get("accountRelation")
                .ok_or(DefinitionError::Missing { field: "accountRelation".into() })?,
            v2,
        )?;
        let relations = get("relations").map(|r| parse_relations(r, v2)).transpose()?;
        let views = get("views").map(|v| parse_views(v, v2)).transpose()?;
        let definition = if v2 {
            let interface = get("interface")
                .ok_or(DefinitionError::Missing { field: "interface".into() })?
                .as_bool()
                .ok_or(DefinitionError::WrongType {
                    field: "interface".into(),
                    expected: "a boolean",
                })?;
            let implements = get("implements")
                .ok_or(DefinitionError::Missing { field: "implements".into() })?
                .as_array()
                .ok_or(DefinitionError::WrongType {
                    field: "implements".into(),
                    expected: "an array of StreamIDs",
                })?
                .iter()
                .map(|v| stream_id(v, "implements"))
                .collect::<Result<Vec<_>, _>>()?;
            let immutable_fields =
                get("immutableFields").map(|v| string_list(v, "immutableFields")).transpose()?;
            ModelDefinition::V2(ModelDefinitionV2 {
                name,
                description,
                interface,
                implements,
                schema,
                immutable_fields,
                account_relation,
                relations,
                views,
            })
        } else {
            // js `ModelDefinitionV1` is a `sparse` codec: the v2-only keys it lets through are
            // ignored, as rust-ceramic's serde model ignores them.
            ModelDefinition::V1(ModelDefinitionV1 {
                name,
                description,
                schema,
                account_relation,
                relations,
                views,
            })
        };
        definition.check()?;
        Ok(definition)
    }

    /// The rules beyond shapes (js `ModelHandler._applyGenesis` after the codec).
    fn check(&self) -> Result<(), DefinitionError> {
        let schema = self.schema();
        check_schema(schema)?;
        if let AccountRelation::Set { fields } = self.account_relation() {
            check_set_fields(fields, schema)?;
        }
        let properties = schema.get("properties").and_then(Value::as_object);
        if let Some(views) = self.views() {
            for name in views.keys() {
                if properties.is_some_and(|p| p.contains_key(name)) {
                    return Err(DefinitionError::ViewShadowsProperty(name.clone()));
                }
            }
        }
        if self.is_interface()
            && properties.is_none_or(Map::is_empty)
            && self.views().is_none_or(BTreeMap::is_empty)
        {
            return Err(DefinitionError::EmptyInterface);
        }
        Ok(())
    }

    /// The definition as JSON, in the shape [`ModelDefinition::from_json`] reads.
    pub fn to_json(&self) -> Value {
        let mut out = Map::new();
        let (name, description, schema, relation, relations, views) = match self {
            ModelDefinition::V1(d) => {
                out.insert("version".into(), json!("1.0"));
                (&d.name, &d.description, &d.schema, &d.account_relation, &d.relations, &d.views)
            }
            ModelDefinition::V2(d) => {
                out.insert("version".into(), json!("2.0"));
                (&d.name, &d.description, &d.schema, &d.account_relation, &d.relations, &d.views)
            }
        };
        out.insert("name".into(), json!(name));
        if let Some(description) = description {
            out.insert("description".into(), json!(description));
        }
        if let ModelDefinition::V2(d) = self {
            out.insert("interface".into(), json!(d.interface));
            let implements: Vec<String> = d.implements.iter().map(ToString::to_string).collect();
            out.insert("implements".into(), json!(implements));
        }
        out.insert("schema".into(), Value::Object(schema.clone()));
        if let ModelDefinition::V2(ModelDefinitionV2 { immutable_fields: Some(f), .. }) = self {
            out.insert("immutableFields".into(), json!(f));
        }
        let relation = match relation {
            AccountRelation::Set { fields } => json!({"type": "set", "fields": fields}),
            other => json!({"type": other.name()}),
        };
        out.insert("accountRelation".into(), relation);
        let model = |m: &Option<StreamId>| m.map_or(Value::Null, |m| json!(m.to_string()));
        if let Some(relations) = relations {
            let map: Map<String, Value> = relations
                .iter()
                .map(|(k, r)| {
                    let v = match r {
                        Relation::Account => json!({"type": "account"}),
                        Relation::Document { model: m } => {
                            json!({"type": "document", "model": model(m)})
                        }
                    };
                    (k.clone(), v)
                })
                .collect();
            out.insert("relations".into(), Value::Object(map));
        }
        if let Some(views) = views {
            let map: Map<String, Value> = views
                .iter()
                .map(|(k, v)| {
                    let value = match v {
                        View::DocumentAccount | View::DocumentVersion => {
                            json!({"type": v.type_name()})
                        }
                        View::RelationDocument { model: m, property } => {
                            json!({"type": v.type_name(), "model": model(m), "property": property})
                        }
                        View::RelationFrom { model: m, property }
                        | View::RelationCountFrom { model: m, property }
                        | View::RelationSetFrom { model: m, property } => {
                            json!({"type": v.type_name(), "model": m.to_string(), "property": property})
                        }
                    };
                    (k.clone(), value)
                })
                .collect();
            out.insert("views".into(), Value::Object(map));
        }
        Value::Object(out)
    }

    /// The model's name.
    pub fn name(&self) -> &str {
        match self {
            ModelDefinition::V1(d) => &d.name,
            ModelDefinition::V2(d) => &d.name,
        }
    }

    /// The instances' JSON schema.
    pub fn schema(&self) -> &Map<String, Value> {
        match self {
            ModelDefinition::V1(d) => &d.schema,
            ModelDefinition::V2(d) => &d.schema,
        }
    }

    /// The account relation.
    pub fn account_relation(&self) -> &AccountRelation {
        match self {
            ModelDefinition::V1(d) => &d.account_relation,
            ModelDefinition::V2(d) => &d.account_relation,
        }
    }

    /// The relations, if any.
    pub fn relations(&self) -> Option<&BTreeMap<String, Relation>> {
        match self {
            ModelDefinition::V1(d) => d.relations.as_ref(),
            ModelDefinition::V2(d) => d.relations.as_ref(),
        }
    }

    /// The views, if any.
    pub fn views(&self) -> Option<&BTreeMap<String, View>> {
        match self {
            ModelDefinition::V1(d) => d.views.as_ref(),
            ModelDefinition::V2(d) => d.views.as_ref(),
        }
    }

    /// Whether this is an interface (v2 only).
    pub fn is_interface(&self) -> bool {
        matches!(self, ModelDefinition::V2(ModelDefinitionV2 { interface: true, .. }))
    }

    /// The interfaces this model implements (none for v1).
    pub fn implements(&self) -> &[StreamId] {
        match self {
            ModelDefinition::V1(_) => &[],
            ModelDefinition::V2(d) => &d.implements,
        }
    }

    /// The immutable fields (none for v1).
    pub fn immutable_fields(&self) -> &[String] {
        match self {
            ModelDefinition::V2(ModelDefinitionV2 { immutable_fields: Some(f), .. }) => f,
            _ => &[],
        }
    }
}

/// js `validateSetFields`: at least one field; each a property of the schema (through a local
/// `$ref`), of type boolean, integer, number or string, and required.
fn check_set_fields(fields: &[String], schema: &Map<String, Value>) -> Result<(), DefinitionError> {
    if fields.is_empty() {
        return Err(DefinitionError::EmptySetFields);
    }
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let root = Value::Object(schema.clone());
    for field in fields {
        let mut property = schema.get("properties").and_then(|p| p.get(field));
        if let Some(reference) = property.and_then(|p| p.get("$ref")).and_then(Value::as_str) {
            property = reference.strip_prefix('#').and_then(|pointer| root.pointer(pointer));
        }
        let Some(property) = property else {
            return Err(DefinitionError::SetFieldNotFound(field.clone()));
        };
        match property.get("type").and_then(Value::as_str) {
            Some("boolean" | "integer" | "number" | "string") => {}
            other => {
                return Err(DefinitionError::SetFieldType {
                    field: field.clone(),
                    kind: other.map(str::to_owned),
                });
            }
        }
        if !required.contains(&field.as_str()) {
            return Err(DefinitionError::SetFieldNotRequired(field.clone()));
        }
    }
    Ok(())
}
