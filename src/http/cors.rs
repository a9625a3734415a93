//! CORS for the plain-JSON routes: every route answers OPTIONS with 200 and the CORS headers
//! (Authify's behaviour), and every response carries `Access-Control-Allow-Origin` for allowed
//! origins. The allow-list is AUTHIFY_CORS_ORIGINS (default `*`).

use poem::http::{HeaderValue, Method, StatusCode, header};
use poem::{Endpoint, IntoResponse, Middleware, Request, Response, Result};

const ALLOW_METHODS: &str = "GET, POST, PUT, PATCH, DELETE, OPTIONS";
const ALLOW_HEADERS: &str = "Authorization, Content-Type, Accept, X-Requested-With, X-Authify-Access, X-Authify-Secret, X-Authify-On-Behalf-Of, X-Request-Id";

#[derive(Clone)]
pub struct Cors {
    /// `None`: any origin.
    allowed: Option<Vec<String>>,
}

impl Cors {
    pub fn new(allowed: Option<Vec<String>>) -> Self {
        Self { allowed }
    }
}

impl<E: Endpoint> Middleware<E> for Cors {
    type Output = CorsEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        CorsEndpoint { inner, allowed: self.allowed.clone() }
    }
}

pub struct CorsEndpoint<E> {
    inner: E,
    allowed: Option<Vec<String>>,
}

impl<E> CorsEndpoint<E> {
    /// The `Access-Control-Allow-Origin` value for a request's `Origin`, if it is allowed.
    fn allow_origin(&self, origin: Option<&HeaderValue>) -> Option<HeaderValue> {
        match &self.allowed {
            None => Some(HeaderValue::from_static("*")),
            Some(list) => {
                let origin = origin?;
                let text = origin.to_str().ok()?;
                list.iter().any(|o| o == text).then(|| origin.clone())
            }
        }
    }
}

impl<E: Endpoint> Endpoint for CorsEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> Result<Self::Output> {
        let allow = self.allow_origin(req.headers().get(header::ORIGIN));
        let mut response = if req.method() == Method::OPTIONS {
            let mut response = StatusCode::OK.into_response();
            let headers = response.headers_mut();
            headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static(ALLOW_METHODS));
            headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static(ALLOW_HEADERS));
            headers.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("86400"));
            response
        } else {
            match self.inner.call(req).await {
                Ok(output) => output.into_response(),
                Err(err) => err.into_response(),
            }
        };
        if let Some(origin) = allow {
            let headers = response.headers_mut();
            headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
            if self.allowed.is_some() {
                headers.append(header::VARY, HeaderValue::from_static("Origin"));
            }
        }
        Ok(response)
    }
}
