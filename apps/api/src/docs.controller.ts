import { Controller, Get, Header, NotFoundException, Param, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { DocsPage } from './docs/docs.page';
import { asyncApiDocument } from './docs/asyncapi.document';
import { openApiDocument } from './docs/openapi.document';

/**
 * `/docs`: the API reference page (Swagger UI from its npm package, and the Socket.IO
 * events), `/docs/openapi.json` and `/docs/asyncapi.json`. A request to `/docs` that does
 * not ask for HTML (`Accept: application/json`, `*\/*`, none) gets the OpenAPI document, as
 * `/docs` answered before the page existed.
 */
@Controller('docs')
export class DocsController {
  private readonly openApi = openApiDocument();
  private readonly asyncApi = asyncApiDocument();
  private readonly page = new DocsPage();

  @Get()
  @Header('vary', 'Accept')
  docs(@Req() req: Request, @Res({ passthrough: true }) res: Response): object | string {
    if (req.accepts(['application/json', 'text/html']) !== 'text/html') return this.openApi;
    res.type('text/html; charset=utf-8');
    return this.page.html();
  }

  @Get('openapi.json')
  openapi(): object {
    return this.openApi;
  }

  /** The gateway's host is the one the request came to (every app serves the same document). */
  @Get('asyncapi.json')
  asyncapi(@Req() req: Request): object {
    const host = req.headers.host;
    if (!host) return this.asyncApi;
    return { ...this.asyncApi, servers: { gateway: { ...(this.asyncApi.servers as { gateway: object }).gateway, host } } };
  }

  /** Declared after the documents, so that their names are not taken for files. */
  @Get(':file')
  @Header('cache-control', 'no-cache')
  file(@Param('file') file: string, @Res({ passthrough: true }) res: Response): string {
    const asset = this.page.asset(file);
    if (!asset) throw new NotFoundException(`no file ${file} in the reference page`);
    res.type(asset.type);
    return asset.body;
  }
}
