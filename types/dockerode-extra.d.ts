// What @types/dockerode 4 leaves out or types as `any`, as the Engine API (1.41) returns it.
import 'dockerode';

declare module 'dockerode' {
  interface ContainerTopResult {
    Titles: string[];
    Processes: string[][];
  }
  interface ContainerWaitResult {
    StatusCode: number;
    Error?: { Message?: string } | null;
  }
}
