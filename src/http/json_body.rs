//! `JsonBody<T>`: a JSON request body whose failures answer the way Authify clients expect:
//! not JSON → 400 `Request must be valid JSON: …`; JSON of the wrong shape → 422 naming the field
//! (`email: invalid type: integer `5`, expected a string`); over the size limit → 413.

use poem::http::StatusCode;
use poem::{Request, RequestBody, Result};
use poem_openapi::error::ContentTypeError;
use poem_openapi::impl_apirequest_for_payload;
use poem_openapi::payload::{ParsePayload, Payload};
use poem_openapi::registry::{MetaMediaType, MetaRequest, MetaSchemaRef, Registry};
use poem_openapi::types::Type;
use poem_openapi::{ApiExtractor, ApiExtractorType, ExtractParamOptions};
use serde::de::DeserializeOwned;

use super::errors::json_error;

/// Plain-JSON request bodies are small; anything larger is refused before parsing.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// A JSON request body deserialized with serde (the OpenAPI schema comes from `T`'s `Object` derive).
#[derive(Debug, Clone)]
pub struct JsonBody<T>(pub T);

impl<T: Type> Payload for JsonBody<T> {
    const CONTENT_TYPE: &'static str = "application/json";

    fn check_content_type(content_type: &str) -> bool {
        matches!(content_type.parse::<mime::Mime>(), Ok(ct) if ct.type_() == "application"
            && (ct.subtype() == "json" || ct.suffix().is_some_and(|s| s == "json")))
    }

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

fn refuse(status: StatusCode, message: impl Into<String>) -> poem::Error {
    poem::Error::from_response(json_error(status, message))
}

impl<T: Type + DeserializeOwned> ParsePayload for JsonBody<T> {
    const IS_REQUIRED: bool = true;

    async fn from_request(_request: &Request, body: &mut RequestBody) -> Result<Self> {
        parse(&read(body).await?)
    }
}

async fn read(body: &mut RequestBody) -> Result<bytes::Bytes> {
    body.take()?.into_bytes_limit(MAX_BODY_BYTES).await.map_err(|_| {
        refuse(StatusCode::PAYLOAD_TOO_LARGE, format!("Request body must be at most {MAX_BODY_BYTES} bytes"))
    })
}

fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<JsonBody<T>> {
    let value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| refuse(StatusCode::BAD_REQUEST, format!("Request must be valid JSON: {e}")))?;
    if !value.is_object() {
        return Err(refuse(StatusCode::BAD_REQUEST, "Request must be valid JSON: expected a JSON object"));
    }
    serde_path_to_error::deserialize(value).map(JsonBody).map_err(|e| {
        let path = e.path().to_string();
        refuse(StatusCode::UNPROCESSABLE_ENTITY, format!("{path}: {}", e.into_inner()))
    })
}

impl_apirequest_for_payload!(JsonBody<T>, T: Type + DeserializeOwned);

/// A JSON body that may be left out entirely (no body, or an empty one, is `None`); when present,
/// it is checked like [`JsonBody`].
#[derive(Debug, Clone)]
pub struct OptionalJsonBody<T>(pub Option<T>);

impl<'a, T: Type + DeserializeOwned> ApiExtractor<'a> for OptionalJsonBody<T> {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::RequestObject];

    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        T::register(registry);
    }

    fn request_meta() -> Option<MetaRequest> {
        Some(MetaRequest {
            description: None,
            content: vec![MetaMediaType { content_type: "application/json", schema: T::schema_ref() }],
            required: false,
        })
    }

    async fn from_request(
        request: &'a Request,
        body: &mut RequestBody,
        _param_opts: ExtractParamOptions<Self::ParamType>,
    ) -> Result<Self> {
        let bytes = read(body).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self(None));
        }
        if let Some(content_type) = request.content_type()
            && !<JsonBody<T> as Payload>::check_content_type(content_type)
        {
            return Err(ContentTypeError::NotSupported { content_type: content_type.to_owned() }.into());
        }
        parse(&bytes).map(|JsonBody(value)| Self(Some(value)))
    }
}
