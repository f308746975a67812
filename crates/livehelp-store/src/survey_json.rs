//! The JSON text both SQL backends store for a survey version's questions and a
//! response's answers, so migration N means the same in both. Backends call these; no
//! one else needs them.
//!
//! Questions: `[{"id": uuid, "kind": "rating", "label": "...", "required": true,
//! "options": ["..."]}]`. Answers: `[{"question_id": uuid, "value": "..."}]`.

use livehelp_domain::{Answer, Question, QuestionId, QuestionKind};
use serde_json::{Value, json};

use crate::StoreError;

/// The stored JSON text of `questions`.
pub fn questions_to_json(questions: &[Question]) -> String {
    Value::Array(
        questions
            .iter()
            .map(|question| {
                json!({
                    "id": question.id.to_string(),
                    "kind": question.kind.as_str(),
                    "label": question.label,
                    "required": question.required,
                    "options": question.options,
                })
            })
            .collect(),
    )
    .to_string()
}

/// Questions read back from their stored JSON text; `Other` if it does not parse.
pub fn questions_from_json(text: &str) -> Result<Vec<Question>, StoreError> {
    let value: Value = serde_json::from_str(text).map_err(corrupt)?;
    let items = value.as_array().ok_or_else(|| corrupt("not an array"))?;
    items
        .iter()
        .map(|item| {
            let kind = item["kind"].as_str().and_then(QuestionKind::parse);
            let id = item["id"]
                .as_str()
                .and_then(|id| id.parse::<QuestionId>().ok());
            let (Some(kind), Some(id), Some(label)) = (kind, id, item["label"].as_str()) else {
                return Err(corrupt("question without id, kind or label"));
            };
            Ok(Question {
                id,
                kind,
                label: label.to_owned(),
                required: item["required"].as_bool().unwrap_or(false),
                options: string_list(&item["options"]),
            })
        })
        .collect()
}

/// The stored JSON text of `answers`.
pub fn answers_to_json(answers: &[Answer]) -> String {
    Value::Array(
        answers
            .iter()
            .map(|answer| json!({"question_id": answer.question_id.to_string(), "value": answer.value}))
            .collect(),
    )
    .to_string()
}

/// Answers read back from their stored JSON text; `Other` if it does not parse.
pub fn answers_from_json(text: &str) -> Result<Vec<Answer>, StoreError> {
    let value: Value = serde_json::from_str(text).map_err(corrupt)?;
    let items = value.as_array().ok_or_else(|| corrupt("not an array"))?;
    items
        .iter()
        .map(|item| {
            let id = item["question_id"]
                .as_str()
                .and_then(|id| id.parse::<QuestionId>().ok());
            match (id, item["value"].as_str()) {
                (Some(question_id), Some(value)) => Ok(Answer {
                    question_id,
                    value: value.to_owned(),
                }),
                _ => Err(corrupt("answer without question_id or value")),
            }
        })
        .collect()
}

/// The stored JSON text of a list of strings (a platform question's options).
pub fn strings_to_json(items: &[String]) -> String {
    json!(items).to_string()
}

/// A list of strings read back from JSON text.
pub fn strings_from_json(text: &str) -> Result<Vec<String>, StoreError> {
    let value: Value = serde_json::from_str(text).map_err(corrupt)?;
    Ok(string_list(&value))
}

fn string_list(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|item| item.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn corrupt(error: impl std::fmt::Display) -> StoreError {
    StoreError::Other(format!("corrupt survey JSON: {error}").into())
}
