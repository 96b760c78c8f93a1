//! Reading a JSON file into a typed value, with errors that name the file,
//! the line and the field.

use crate::MainnetError;
use serde::de::DeserializeOwned;
use std::path::Path;

pub fn read<T: DeserializeOwned>(file: &Path) -> Result<T, MainnetError> {
    let text = std::fs::read_to_string(file).map_err(|source| MainnetError::Io {
        file: file.to_path_buf(),
        source,
    })?;
    parse(file, &text)
}

pub fn parse<T: DeserializeOwned>(file: &Path, text: &str) -> Result<T, MainnetError> {
    let de = &mut serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let field = e.path().to_string();
        let inner = e.into_inner();
        let full = inner.to_string();
        // serde_json appends " at line L column C"; the error carries both.
        let message = full
            .rsplit_once(" at line ")
            .map_or(full.as_str(), |(m, _)| m)
            .to_string();
        MainnetError::Json {
            file: file.to_path_buf(),
            field,
            line: inner.line(),
            column: inner.column(),
            message,
        }
    })
}
