namespace Granary.Runtime.Invocation;

/// <summary>The result type of grain methods returning <see cref="Task"/> or <see cref="ValueTask"/>.</summary>
public readonly struct NoResult;

/// <summary>Conversions between grain method return types and the runtime's <see cref="ValueTask{TResult}"/>; used by generated code.</summary>
public static class GrainResults
{
    /// <summary>Adapts a grain method's <see cref="Task"/>.</summary>
    public static ValueTask<NoResult> FromTask(Task task)
        => task.IsCompletedSuccessfully ? default : AwaitTask(task);

    /// <summary>Adapts a grain method's <see cref="ValueTask"/>.</summary>
    public static ValueTask<NoResult> FromValueTask(ValueTask task)
        => task.IsCompletedSuccessfully ? default : AwaitValueTask(task);

    /// <summary>Adapts a grain method's <see cref="Task{TResult}"/> without allocating.</summary>
    public static ValueTask<TResult> FromTask<TResult>(Task<TResult> task)
        => task.IsCompletedSuccessfully ? new ValueTask<TResult>(task.Result) : new ValueTask<TResult>(task);

    /// <summary>Adapts the runtime's result to a proxy method returning <see cref="Task"/>.</summary>
    public static Task ToTask(ValueTask<NoResult> result)
        => result.IsCompletedSuccessfully ? Task.CompletedTask : result.AsTask();

    /// <summary>Adapts the runtime's result to a proxy method returning <see cref="ValueTask"/>.</summary>
    public static ValueTask ToValueTask(ValueTask<NoResult> result)
        => result.IsCompletedSuccessfully ? default : new ValueTask(result.AsTask());

    private static async ValueTask<NoResult> AwaitTask(Task task)
    {
        await task.ConfigureAwait(false);
        return default;
    }

    private static async ValueTask<NoResult> AwaitValueTask(ValueTask task)
    {
        await task.ConfigureAwait(false);
        return default;
    }
}
