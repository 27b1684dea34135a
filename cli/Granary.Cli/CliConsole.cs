using System.Globalization;
using Spectre.Console;

namespace Granary.Cli;

/// <summary>
/// The one way commands write to the console. Styling lives only in the templates written in this code; every
/// interpolated value (names, types, paths, messages: text that comes from users) is escaped, whatever its type, so
/// brackets in it are printed, never read as Spectre markup. Definitions and sources go out raw, byte for byte.
/// </summary>
public static class CliConsole
{
    /// <summary>
    /// Writes a line from a markup template: <c>console.Line($"Project [green]{name}[/] ...")</c>. Spectre's own
    /// MarkupLineInterpolated escapes only string holes; a record or exception in a hole would be parsed as markup.
    /// </summary>
    public static void Line(this IAnsiConsole console, FormattableString template) => console.MarkupLine(Escaped(template));

    /// <summary>A renderable from a markup template whose holes are all escaped (for table cells and progress descriptions).</summary>
    public static Markup Styled(FormattableString template) => new(Escaped(template));

    /// <summary>The markup text of <paramref name="template"/>, every hole escaped (progress task descriptions take markup text).</summary>
    public static string Escaped(FormattableString template) => string.Format(EscapingFormatter.Instance, template.Format, template.GetArguments());

    /// <summary>Plain text: a table cell or line printed as is, never parsed.</summary>
    public static Text Plain(string text) => new(text);

    /// <summary>An error line: a red <c>error:</c> then <paramref name="message"/> as plain text (it may span lines).</summary>
    public static void Error(this IAnsiConsole console, string message) => console.Line($"[red]error:[/] {message}");

    /// <summary>
    /// Writes <paramref name="text"/> exactly: no wrapping at the console's width, no markup, no added newline. For YAML
    /// and transform sources a user redirects into a file.
    /// </summary>
    public static void Raw(this IAnsiConsole console, string text)
    {
        var writer = console.Profile.Out.Writer;
        writer.Write(text);
        writer.Flush();
    }

    /// <summary>
    /// The console for the process: colour and cursor control only on a terminal; none when output is redirected or
    /// <c>NO_COLOR</c> is set (https://no-color.org). Redirected output is not wrapped at the default 80 columns.
    /// </summary>
    public static IAnsiConsole ForProcess()
    {
        var redirected = System.Console.IsOutputRedirected;
        var noColor = !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR"));
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = redirected ? AnsiSupport.No : AnsiSupport.Detect,
            ColorSystem = redirected || noColor ? ColorSystemSupport.NoColors : ColorSystemSupport.Detect,
            Interactive = redirected ? InteractionSupport.No : InteractionSupport.Detect,
            Out = new AnsiConsoleOutput(System.Console.Out),
        });
        // A file or pipe has no width; tables should not wrap their cells for one.
        if (redirected) console.Profile.Width = RedirectedWidth;
        return console;
    }

    /// <summary>The width tables are laid out in when output is redirected.</summary>
    public const int RedirectedWidth = 10_000;

    // Formats each hole as string.Format would (with its format specifier, invariant culture), then escapes it.
    private sealed class EscapingFormatter : IFormatProvider, ICustomFormatter
    {
        public static readonly EscapingFormatter Instance = new();

        public object? GetFormat(Type? formatType) => formatType == typeof(ICustomFormatter) ? this : null;

        public string Format(string? format, object? arg, IFormatProvider? formatProvider)
        {
            var text = arg switch
            {
                null => "",
                IFormattable f => f.ToString(format, CultureInfo.InvariantCulture),
                _ => arg.ToString() ?? "",
            };
            return Markup.Escape(text);
        }
    }
}
