//! The model's tokenizer as the encoders use it: tokenizer.json with its shipped padding
//! switched off (batches pad themselves) and truncation at [`MAX_TOKENS`]; and BERT's
//! WordPiece pipeline built in code, which the 8-bit query encoder uses where it agrees.

use std::path::Path;

use tokenizers::{Tokenizer, TruncationParams};

use crate::error::{Error, Result};

/// Truncation length in tokens (sentence-transformers' max_seq_length for MiniLM).
pub const MAX_TOKENS: usize = 256;

/// The model's tokenizer, with its shipped padding off and truncation at [`MAX_TOKENS`].
pub(crate) fn load_tokenizer(dir: &Path) -> Result<Tokenizer> {
    let load_err = |reason: String| Error::Load {
        path: dir.to_path_buf(),
        reason,
    };
    let mut tokenizer =
        Tokenizer::from_file(dir.join("tokenizer.json")).map_err(|e| load_err(e.to_string()))?;
    tokenizer.with_padding(None);
    tokenizer
        .with_truncation(Some(TruncationParams {
            max_length: MAX_TOKENS,
            ..Default::default()
        }))
        .map_err(|e| load_err(e.to_string()))?;
    Ok(tokenizer)
}

/// BERT's WordPiece tokenizer built in code from `vocab.txt` (lowercasing, accents
/// stripped with the lowercase, Chinese characters split, `[CLS] … [SEP]`): 6 ms
/// instead of 16 ms for parsing tokenizer.json. Used only where [`write_if_stale`]
/// checked that it gives tokenizer.json's ids on the model's own sample texts.
pub(crate) fn bert_tokenizer(model_dir: &Path) -> Result<Tokenizer> {
    use tokenizers::models::wordpiece::WordPiece;
    use tokenizers::normalizers::bert::BertNormalizer;
    use tokenizers::pre_tokenizers::bert::BertPreTokenizer;
    use tokenizers::processors::template::TemplateProcessing;
    let vocab = model_dir.join("vocab.txt");
    let err = |reason: String| Error::Load {
        path: vocab.clone(),
        reason,
    };
    let wp = WordPiece::from_file(&vocab.to_string_lossy())
        .unk_token("[UNK]".into())
        .continuing_subword_prefix("##".into())
        .max_input_chars_per_word(100)
        .build()
        .map_err(|e| err(e.to_string()))?;
    use tokenizers::Model;
    let cls = wp
        .token_to_id("[CLS]")
        .ok_or_else(|| err("no [CLS]".into()))?;
    let sep = wp
        .token_to_id("[SEP]")
        .ok_or_else(|| err("no [SEP]".into()))?;
    let mut tok = Tokenizer::new(wp);
    let post = TemplateProcessing::builder()
        .try_single("[CLS] $A [SEP]")
        .map_err(|e| err(e.to_string()))?
        .special_tokens(vec![("[CLS]", cls), ("[SEP]", sep)])
        .build()
        .map_err(|e| err(e.to_string()))?;
    tok.with_normalizer(Some(BertNormalizer::new(true, true, None, true)))
        .map_err(|e| err(e.to_string()))?;
    tok.with_pre_tokenizer(Some(BertPreTokenizer));
    tok.with_post_processor(Some(post));
    tok.with_truncation(Some(TruncationParams {
        max_length: MAX_TOKENS,
        ..Default::default()
    }))
    .map_err(|e| err(e.to_string()))?;
    Ok(tok)
}
