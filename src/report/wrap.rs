//! Greedy word wrap for text the harness prints and writes ([`wrap`]).

/// `text` in lines of at most `width` characters, broken at spaces; a word longer than `width`
/// (a URL) gets a line of its own. No lines for a text of no words.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_fill_lines_up_to_the_width_and_a_long_word_gets_its_own() {
        assert_eq!(wrap("aaa bbb ccc", 7), vec!["aaa bbb", "ccc"]);
        assert_eq!(
            wrap("a bb https://example.com/long dd", 8),
            vec!["a bb", "https://example.com/long", "dd"]
        );
        assert!(wrap("", 8).is_empty());
    }
}
