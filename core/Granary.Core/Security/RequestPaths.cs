namespace Granary.Security;

/// <summary>
/// Confines file paths that requests name (a historical job's output and entity files, a drift baseline) to one folder:
/// a path is resolved the way the file system would follow it (<c>..</c> after each symbolic link is followed) and must
/// end inside <see cref="Folder"/>, else it is refused naming the path and the folder.
/// </summary>
public sealed class RequestPaths
{
    private const int MaxLinks = 40; // as Linux's ELOOP limit

    /// <summary>Confines to <paramref name="folder"/> (absolute; its own links are resolved too); <paramref name="setting"/> names where it is configured.</summary>
    public RequestPaths(string folder, string setting)
    {
        Folder = RealPath(Path.GetFullPath(folder));
        Setting = setting;
    }

    /// <summary>The allowed folder, links resolved.</summary>
    public string Folder { get; }

    /// <summary>The setting that changes <see cref="Folder"/>.</summary>
    public string Setting { get; }

    /// <summary>
    /// <paramref name="path"/> (absolute, or relative to <paramref name="relativeTo"/>) as the file system resolves it,
    /// when that is inside <see cref="Folder"/>; otherwise a <see cref="RequestPathException"/> naming <paramref name="field"/>.
    /// </summary>
    public string Confine(string path, string field, string? relativeTo = null)
    {
        var full = Path.IsPathFullyQualified(path) ? path : Path.Combine(relativeTo ?? Folder, path);
        var real = RealPath(full);
        if (!IsInside(real))
            throw new RequestPathException(
                $"'{field}' '{Cut(path)}' resolves to '{Cut(real)}', outside the folder this server reads and writes for requests, '{Folder}'",
                $"name a file under {Folder}, or change {Setting}");
        return real;
    }

    private bool IsInside(string real)
    {
        var folder = Folder.EndsWith(Path.DirectorySeparatorChar) ? Folder : Folder + Path.DirectorySeparatorChar;
        return real.StartsWith(folder, StringComparison.Ordinal) && real.Length > folder.Length;
    }

    /// <summary>The path with every symbolic link along it followed and <c>.</c>/<c>..</c> applied in order, as the kernel walks it; parts that do not exist yet are taken as written.</summary>
    public static string RealPath(string path)
    {
        var links = 0;
        var pending = new Stack<string>();
        var absolute = Path.IsPathFullyQualified(path) ? path : Path.Combine(Directory.GetCurrentDirectory(), path);
        var current = Path.GetPathRoot(absolute) ?? "/";
        // Not Path.GetFullPath: it collapses ".." lexically, but "link/.." is the link target's parent.
        var rawParts = absolute[current.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries);
        for (var i = rawParts.Length - 1; i >= 0; i--) pending.Push(rawParts[i]);
        while (pending.Count > 0)
        {
            var part = pending.Pop();
            if (part == ".") continue;
            if (part == "..")
            {
                current = Path.GetDirectoryName(current) ?? current;
                continue;
            }
            var next = Path.Combine(current, part);
            var info = new FileInfo(next);
            if (info.Exists || Directory.Exists(next))
            {
                var target = info.LinkTarget ?? new DirectoryInfo(next).LinkTarget;
                if (target is not null)
                {
                    if (++links > MaxLinks) throw new RequestPathException($"'{Cut(path)}' has more than {MaxLinks} symbolic links in a row", "give a path without a link loop");
                    // A relative target is read from the link's folder; its parts are walked like the rest.
                    if (Path.IsPathFullyQualified(target)) current = Path.GetPathRoot(target) ?? "/";
                    var parts = target.Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries);
                    for (var j = parts.Length - 1; j >= 0; j--) pending.Push(parts[j]);
                    continue;
                }
            }
            current = next;
        }
        return current;
    }

    private static string Cut(string text) => text.Length <= 200 ? text : string.Concat(text.AsSpan(0, 180), $"...[{text.Length} characters]");
}

/// <summary>A request named a file outside the folder requests may use.</summary>
public sealed class RequestPathException(string message, string hint) : GranaryException(message, hint);
