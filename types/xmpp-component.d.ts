// The surface of @xmpp/component (CommonJS, untyped) that Outpost uses.
declare module '@xmpp/component' {
  import type { EventEmitter } from 'node:events';

  export interface XmlElement {
    name: string;
    attrs: Record<string, string | undefined>;
    children: (XmlElement | string)[];
    is(name: string, xmlns?: string): boolean;
    getChild(name: string, xmlns?: string): XmlElement | undefined;
    getChildText(name: string, xmlns?: string): string | null;
    text(): string;
    toString(): string;
  }

  export function xml(name: string, attrs?: Record<string, string | undefined> | null, ...children: (XmlElement | string)[]): XmlElement;

  export interface Component extends EventEmitter {
    status: string;
    start(): Promise<unknown>;
    stop(): Promise<unknown>;
    send(element: XmlElement): Promise<void>;
    reconnect: { delay: number; start(): void; stop(): void };
    iqCaller: { request(element: XmlElement, timeout?: number): Promise<XmlElement> };
    iqCallee: { get(ns: string, name: string, handler: () => unknown): void };
  }

  export function component(options: { service: string; domain: string; password: string }): Component;
}
