package fedlake.jobs.report;

/** Escaping and the style sheet of the HTML report (inline: the page fetches nothing). */
final class Html {
  static final String STYLE =
      String.join(
          "\n",
          "body { font-family: sans-serif; margin: 24px auto; max-width: 1000px; color: #222; }",
          "h1 { font-size: 24px; margin-bottom: 8px; }",
          "h2 { font-size: 18px; margin: 28px 0 4px; border-top: 1px solid #ddd; padding-top: 12px; }",
          "p.what { margin: 2px 0 8px; color: #555; font-size: 13px; }",
          "p.why { margin: 4px 0; color: #8a6d3b; font-size: 13px; font-style: italic; }",
          "p.note { margin: 4px 0; font-size: 13px; }",
          "p.foot { margin-top: 32px; color: #777; font-size: 12px; }",
          "table.facts th { text-align: left; padding: 2px 16px 2px 0; font-weight: 600; vertical-align: top; }",
          "table.facts td { padding: 2px 0; font-size: 14px; }",
          "table.figures { border-collapse: collapse; font-size: 12px; margin: 4px 0; }",
          "table.figures th, table.figures td { border: 1px solid #ddd; padding: 2px 8px; text-align: right; }",
          "details summary { cursor: pointer; font-size: 12px; color: #1f77b4; }",
          "svg.plot { display: block; margin: 4px 0; }",
          "");

  private Html() {}

  static String escape(String text) {
    if (text == null) {
      return "";
    }
    StringBuilder out = new StringBuilder(text.length());
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      switch (c) {
        case '&' -> out.append("&amp;");
        case '<' -> out.append("&lt;");
        case '>' -> out.append("&gt;");
        case '"' -> out.append("&quot;");
        case '\'' -> out.append("&#39;");
        default -> out.append(c);
      }
    }
    return out.toString();
  }
}
