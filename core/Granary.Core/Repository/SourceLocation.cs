using Granary;
namespace Granary.Repository;

/// <summary>A place in the repository: a file relative to the repository root and a 1-based line (0 when unknown).</summary>
public readonly record struct SourceLocation(string File, int Line)
{
    /// <inheritdoc/>
    public override string ToString() => Line > 0 ? $"{File}:{Line}" : File;
}

/// <summary>One problem found in a repository, with where it is.</summary>
public sealed record RepositoryError(SourceLocation Location, string Message)
{
    /// <inheritdoc/>
    public override string ToString() => $"{Location}: {Message}";
}

/// <summary>The repository could not be loaded or failed validation; <see cref="Errors"/> lists every problem found.</summary>
public sealed class RepositoryValidationException : GranaryException
{
    /// <summary>A failed load or validation with every problem found.</summary>
    public RepositoryValidationException(IReadOnlyList<RepositoryError> errors) : base(Format(errors)) => Keep(nameof(Errors), errors.ToArray());

    /// <summary>Every problem, in file order.</summary>
    public IReadOnlyList<RepositoryError> Errors => Kept<RepositoryError[]>(nameof(Errors), []);

    private static string Format(IReadOnlyList<RepositoryError> errors)
        => errors.Count == 1
            ? errors[0].ToString()
            : $"{errors.Count} problems in the feature repository:{Environment.NewLine}" +
              string.Join(Environment.NewLine, errors.Select(e => "  " + e));
}
