package io.infraveil.bench.memory;

/** The smallest useful JVM: prints one line, then idles. The baseline of the memory bench. */
public final class IdleJvm {

  private IdleJvm() {}

  public static void main(String[] args) throws InterruptedException {
    System.out.println("idle");
    Thread.sleep(Long.MAX_VALUE);
  }
}
